//! Command line: parse arguments, run one command, map the outcome to an exit code once.
//! stdout carries data (YAML streams, diffs, the schema); diagnostics go to stderr.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::diag::report::{Format, Report};
use crate::diag::{self, Diagnostic};
use crate::{emit, integrate, outputs, profile, write};

mod compare;
mod input;
mod live;

use compare::compare;
use input::{load_all, load_one, read_stdin};

/// Exit codes, documented in the README.
pub const OK: i32 = 0;
pub const DRIFT: i32 = 1;
pub const INVALID: i32 = 2;
/// `verify`: a check against the live deployment failed.
pub const CHECK_FAILED: i32 = 1;

#[derive(Parser)]
#[command(
    name = "baogen",
    version,
    about = "Compile a TOML profile into OpenBao metrics-scrape and Kubernetes configuration"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// No progress lines on stderr (errors and drift reports still print).
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Colour in diagnostics: auto (a terminal without NO_COLOR), always or never.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// How problems are reported: human (snippets on stderr), json (one object per line),
    /// sarif (SARIF 2.1.0) or github (workflow commands). Machine formats go to stdout, except
    /// in helm-post-render and kustomize-plugin, whose stdout belongs to Helm and kustomize.
    #[arg(long, global = true, value_enum, default_value_t = MessageFormat::Human)]
    message_format: MessageFormat,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum MessageFormat {
    Human,
    Json,
    Sarif,
    Github,
}

impl MessageFormat {
    fn format(self) -> Format {
        match self {
            MessageFormat::Human => Format::Human,
            MessageFormat::Json => Format::Json,
            MessageFormat::Sarif => Format::Sarif,
            MessageFormat::Github => Format::Github,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

impl Color {
    fn enabled(self) -> bool {
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        }
    }
}

/// How the run prints what is not data.
#[derive(Clone, Copy)]
struct Output {
    quiet: bool,
    color: bool,
    format: Format,
    /// Whether stdout belongs to another tool (Helm, kustomize): reports then go to stderr.
    stdout_is_data: bool,
}

fn output() -> Output {
    OUTPUT.get().copied().unwrap_or(Output {
        quiet: false,
        color: false,
        format: Format::Human,
        stdout_is_data: false,
    })
}

/// Set once in `main` from the global flags: what prints progress and diagnostics reads it
/// (deep in a command, a flag passed down every call would say the same thing).
static OUTPUT: std::sync::OnceLock<Output> = std::sync::OnceLock::new();

#[derive(Subcommand)]
enum Command {
    /// Write every artifact of each profile (atomically: all or nothing).
    Render {
        /// Profile files, directories (every profile under each: a .toml file with its own
        /// `profile` key; bases are skipped), or `-` for a profile on stdin.
        #[arg(required = true)]
        profiles: Vec<PathBuf>,
        /// Output directory (default: the profile's `output`). With several profiles, each
        /// renders into DIR/<profile file stem>.
        #[arg(long, value_name = "DIR", conflicts_with = "stdout")]
        out: Option<PathBuf>,
        /// Print the Kubernetes objects as one YAML stream instead of writing files.
        #[arg(long)]
        stdout: bool,
        /// Replace an output directory even though it holds files baogen did not write (they
        /// are deleted). Without it, such a directory is refused and the files are listed.
        #[arg(long, conflicts_with = "stdout")]
        force: bool,
    },
    /// Render in memory and compare with the committed output; exit 1 with a diff on drift.
    Check {
        /// Profile files, directories (every profile under each: a .toml file with its own
        /// `profile` key; bases are skipped), or `-` for a profile on stdin.
        #[arg(required = true)]
        profiles: Vec<PathBuf>,
        /// Directory to compare with (default: the profile's `output`).
        #[arg(long, value_name = "DIR")]
        against: Option<PathBuf>,
    },
    /// Like `check`, but always exits 0 when the profiles are valid.
    Diff {
        /// Profile files, directories (every profile under each: a .toml file with its own
        /// `profile` key; bases are skipped), or `-` for a profile on stdin.
        #[arg(required = true)]
        profiles: Vec<PathBuf>,
        #[arg(long, value_name = "DIR")]
        against: Option<PathBuf>,
    },
    /// Print the profile's JSON Schema.
    Schema,
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `baogen man > baogen.1`.
    Man,
    /// Explain what a profile shows and hides and each security decision it makes.
    Explain { profile: PathBuf },
    /// Run the how-to's verification against a live deployment; exit 1 when a check fails.
    Verify {
        profile: PathBuf,
        /// Prometheus base URL, e.g. http://127.0.0.1:9090.
        #[arg(long, value_name = "URL")]
        prometheus: String,
        /// OpenBao base URL of the scraped listener, checked directly like the how-to's curl.
        #[arg(long, value_name = "URL")]
        openbao: Option<String>,
        /// The CA that signed OpenBao's serving certificate (PEM).
        #[arg(long, value_name = "FILE")]
        ca: Option<PathBuf>,
        /// A file holding the metrics token.
        #[arg(long, value_name = "FILE")]
        token_file: Option<PathBuf>,
    },
    /// Compare the profile's OpenBao state (metrics and consumer policies, the engine mount,
    /// config and roles) with a live server; exit 0 when nothing would change, 1 when
    /// something would. Connects like the bao CLI (BAO_ADDR, BAO_TOKEN, BAO_CACERT).
    Plan {
        profile: PathBuf,
        #[command(flatten)]
        connection: live::ConnectionArgs,
        /// Plan deleting what the profile owns but no longer declares.
        #[arg(long)]
        prune: bool,
        /// `text` (Terraform's shape) or `json`.
        #[arg(long, value_enum, default_value_t = live::PlanFormat::Text)]
        format: live::PlanFormat,
    },
    /// Print the plan and apply it: mount, policies, config, roles, deletions last. Asks on a
    /// terminal; elsewhere needs --yes.
    Apply {
        profile: PathBuf,
        #[command(flatten)]
        connection: live::ConnectionArgs,
        /// Also delete what the profile owns but no longer declares (roles under its mount,
        /// its consumer policies); never a mount, never anything else.
        #[arg(long)]
        prune: bool,
        /// Apply without asking.
        #[arg(long)]
        yes: bool,
        /// A file holding the engine's service account JWT, sent with the config (needed when
        /// OpenBao runs outside the cluster or disable_local_ca_jwt = true).
        #[arg(long, value_name = "FILE")]
        jwt_file: Option<PathBuf>,
    },
    /// Helm post-renderer: manifests on stdin; prints them plus the profile's objects, with
    /// the OpenBao StatefulSet patched. On any error stdout stays empty and the exit is 2.
    HelmPostRender { profile: PathBuf },
    /// KRM exec function (kpt, kustomize): a ResourceList on stdin, the updated one on stdout.
    /// The function config is a baogen.dev/v1alpha1 BaogenProfile.
    Krm,
    /// Legacy kustomize exec plugin (kubectl kustomize --enable-alpha-plugins): CONFIG is the
    /// BaogenProfile file kustomize passes; prints the profile's objects.
    KustomizePlugin { config: PathBuf },
}

/// A failure that ends the command: either diagnostics about inputs or a plain message.
enum Failure {
    Invalid(Vec<Diagnostic>),
    Message(String),
    /// An integration refused its input.
    Integration(integrate::Error),
}

impl From<Vec<Diagnostic>> for Failure {
    fn from(d: Vec<Diagnostic>) -> Self {
        Failure::Invalid(d)
    }
}

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { INVALID } else { OK };
            let _ = e.print();
            return code;
        }
    };
    let _ = OUTPUT.set(Output {
        quiet: cli.quiet,
        color: cli.color.enabled(),
        format: cli.message_format.format(),
        stdout_is_data: matches!(
            cli.command,
            Command::HelmPostRender { .. } | Command::KustomizePlugin { .. } | Command::Krm
        ),
    });
    let mut sources = diag::Sources::default();
    let failure = match run(cli.command, &mut sources) {
        Ok(code) => return code,
        Err(f) => f,
    };
    let format = output().format;
    let mut report = Report::default();
    match failure {
        Failure::Invalid(diags) if format == Format::Human => print_diagnostics(&diags, &sources),
        Failure::Invalid(diags) => report.diagnostics = diags,
        Failure::Message(m) if format == Format::Human => eprintln!("error: {m}"),
        Failure::Message(m) => report.errors.push(m),
        Failure::Integration(e) if format == Format::Human => eprint!("{}", e.render()),
        Failure::Integration(e) => add_integration_error(e, &mut report, &mut sources),
    }
    print_report(&report, &sources);
    INVALID
}

/// An integration's refusal into a report: its diagnostics with the profile text they cut from.
fn add_integration_error(e: integrate::Error, report: &mut Report, sources: &mut diag::Sources) {
    match e {
        integrate::Error::Profile {
            diags,
            sources: read,
        } => {
            sources.extend(read);
            report.diagnostics.extend(diags);
        }
        other => report.errors.push(other.chain()),
    }
}

/// A report in the machine format asked for; nothing for `human`, which prints as it goes.
fn print_report(report: &Report, sources: &diag::Sources) {
    let out = output();
    if out.format == Format::Human {
        return;
    }
    let text = report.render(out.format, sources);
    if out.stdout_is_data {
        let _ = std::io::stderr().write_all(text.as_bytes());
    } else {
        print_stdout(&text);
    }
}

fn run(command: Command, sources: &mut diag::Sources) -> Result<i32, Failure> {
    match command {
        Command::Render {
            profiles,
            out,
            stdout,
            force,
        } => {
            let loaded = load_all(&profiles, sources)?;
            let rendered: Vec<_> = loaded.iter().map(emit::render).collect();
            let collisions = outputs::check_collisions(&loaded, &rendered);
            if !collisions.is_empty() {
                return Err(Failure::Invalid(collisions));
            }
            if stdout {
                let text: String = rendered.iter().map(emit::Artifacts::kube_stream).collect();
                print_stdout(&text);
                return Ok(OK);
            }
            let dirs = outputs::dirs(&loaded, out.as_deref(), "--out")?;
            let explicit = out.is_some();
            let apart = outputs::check_apart(&loaded, &dirs, explicit);
            if !apart.is_empty() {
                return Err(Failure::Invalid(apart));
            }
            // Stage everything before swapping anything in: all or nothing.
            let mut staged = Vec::new();
            let mut refused = Vec::new();
            for ((p, dir), art) in loaded.iter().zip(&dirs).zip(&rendered) {
                match write::stage(dir, &art.files, force) {
                    Ok(s) => staged.push(s),
                    Err(e) => refused.push(outputs::at_output(
                        diag::Code::OutputRefused,
                        p,
                        explicit,
                        format!("cannot render into {}: {}", e.path().display(), chain(&e)),
                        "nothing was written, for this profile or any other on the command line",
                    )),
                }
            }
            if !refused.is_empty() {
                return Err(Failure::Invalid(refused));
            }
            write::commit(staged).map_err(|e| {
                Failure::Message(format!(
                    "{}: {}; every output was left as it was",
                    e.path().display(),
                    chain(&e)
                ))
            })?;
            let mut lines = String::new();
            for (dir, art) in dirs.iter().zip(&rendered) {
                lines.push_str(&format!(
                    "rendered {} files into {}\n",
                    art.files.len(),
                    crate::fsio::normalize(dir).display()
                ));
            }
            status(lines.trim_end().to_string());
            Ok(OK)
        }
        Command::Check { profiles, against } => {
            compare(&profiles, against.as_deref(), true, sources)
        }
        Command::Diff { profiles, against } => {
            compare(&profiles, against.as_deref(), false, sources)
        }
        Command::Schema => {
            print_stdout(profile::schema::committed());
            Ok(OK)
        }
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "baogen",
                &mut script,
            );
            print_stdout(&String::from_utf8_lossy(&script));
            Ok(OK)
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
                .render(&mut page)
                .map_err(|e| Failure::Message(format!("cannot render the man page: {e}")))?;
            print_stdout(&String::from_utf8_lossy(&page));
            Ok(OK)
        }
        Command::Explain { profile } => {
            let p = load_one(profile, sources)?;
            print_stdout(&crate::explain::explain(&p));
            Ok(OK)
        }
        Command::Verify {
            profile,
            prometheus,
            openbao,
            ca,
            token_file,
        } => {
            let p = load_one(profile, sources)?;
            let target = crate::verify::Target {
                prometheus,
                openbao,
                ca,
                token_file,
            };
            let checks =
                crate::verify::run(&p, &target).map_err(|e| Failure::Message(format!("{e:#}")))?;
            print_stdout(&crate::verify::report(&checks));
            Ok(if checks.iter().all(|c| c.ok) {
                OK
            } else {
                CHECK_FAILED
            })
        }
        Command::Plan {
            profile,
            connection,
            prune,
            format,
        } => {
            let p = load_one(profile, sources)?;
            live::plan(&p, &connection, prune, format)
        }
        Command::Apply {
            profile,
            connection,
            prune,
            yes,
            jwt_file,
        } => {
            let p = load_one(profile, sources)?;
            live::apply(&p, &connection, prune, yes, jwt_file.as_deref())
        }
        Command::HelmPostRender { profile } => {
            let input = read_stdin()?;
            let out =
                integrate::helm::post_render(&profile, &input).map_err(Failure::Integration)?;
            for note in &out.notes {
                status(format!("baogen: {note}"));
            }
            print_stdout(&out.stream);
            Ok(OK)
        }
        Command::Krm => {
            let input = read_stdin()?;
            let cwd = std::env::current_dir().unwrap_or_default();
            let out = integrate::krm::run(&input, &cwd);
            // kustomize does not print a function's results, so problems go to stderr too, in
            // the format asked for.
            match out.error {
                Some(e) if output().format != Format::Human => {
                    let mut report = Report::default();
                    let mut sources = diag::Sources::default();
                    add_integration_error(e, &mut report, &mut sources);
                    print_report(&report, &sources);
                }
                _ => eprint!("{}", out.stderr),
            }
            print_stdout(&out.resource_list);
            Ok(if out.ok { OK } else { INVALID })
        }
        Command::KustomizePlugin { config } => {
            let base = std::env::var_os("KUSTOMIZE_PLUGIN_CONFIG_ROOT")
                .map(PathBuf::from)
                .or_else(|| std::env::current_dir().ok())
                .unwrap_or_default();
            let text =
                integrate::krm::kustomize_plugin(&config, &base).map_err(Failure::Integration)?;
            print_stdout(&text);
            Ok(OK)
        }
    }
}

fn print_diagnostics(diags: &[Diagnostic], sources: &diag::Sources) {
    let color = output().color;
    let text = diag::render_all(diags, |path| sources.get(path).cloned(), color);
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// A progress line on stderr, in one write (`eprintln!` makes one system call per piece).
fn status(line: String) {
    if output().quiet {
        return;
    }
    let _ = std::io::stderr().write_all(format!("{line}\n").as_bytes());
}

/// Data on stdout; a closed pipe (`baogen ... | head`) is not an error.
fn print_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write to stdout: {e}");
            std::process::exit(INVALID);
        }
    }
}

/// An error and its causes, `outer: inner: root`, as anyhow's alternate form prints them.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let causes: Vec<String> = anyhow::Chain::new(e).map(|c| c.to_string()).collect();
    causes.join(": ")
}
