fn main() {
    std::process::exit(baogen::cli::main());
}
