//! `redigo-cli`: command-line client.
fn main() {
    eprintln!("redigo-cli: not built yet (issue 7)");
    std::process::exit(1);
}
