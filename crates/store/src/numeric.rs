//! Redis number parsing and formatting (`string2ll`, `string2ld`, `ld2string`).
