//! The `bulkhead` binary: parse the command line, log to stderr, run.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use bulkhead::cli::{AuditCommand, Cli, Command, PolicyCommand, TokenCommand};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("bulkhead: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => bulkhead::app::serve(args).await,
            Command::Plugins(args) => bulkhead::app::report(args).await,
            Command::Doctor(args) => bulkhead::doctor::run(args).await,
            Command::Audit(AuditCommand::Verify { file }) => bulkhead::app::verify_audit(&file),
            Command::Policy(PolicyCommand::Check { file }) => bulkhead::app::check_policy(&file),
            Command::Keygen { out } => bulkhead::app::keygen(&out),
            Command::Plugin(command) => bulkhead::app::plugin_command(command),
            Command::Token(TokenCommand::New {
                file,
                principal,
                scope,
            }) => bulkhead::app::new_token(&file, &principal, &scope),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bulkhead: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr: under stdio, stdout is the protocol channel. `BULKHEAD_LOG`
/// (or `RUST_LOG`) sets the filter; Cranelift is noisy below `warn`.
fn init_logging() {
    let filter = std::env::var("BULKHEAD_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".into());
    let filter = EnvFilter::try_new(format!("{filter},cranelift_codegen=warn,wasmtime=info"))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .init();
}

/// A client that hangs up mid-answer is a normal way to end.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
