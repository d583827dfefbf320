//! `redigo`: thin binary over the `redigo_server` library.
fn main() {
    eprintln!("redigo: the server is not built yet (issue 5)");
    std::process::exit(1);
}
