fn main() -> std::process::ExitCode {
    tcp_chat::main()
}
