//! Write the scale benchmark's profile with N engine roles: `gen_roles N FILE`.
#[path = "../tests/common/roles.rs"]
mod roles;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .expect("usage: gen_roles N FILE");
    std::fs::write(&args[2], roles::profile_with_roles(n)).expect("write the profile");
}
