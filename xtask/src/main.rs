//! Project automation: `cargo xtask codegen|tidy|bench|release`.
fn main() {}
