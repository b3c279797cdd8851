//! The `kyso` command: parse the CLI, load settings, dispatch.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use secrecy::SecretString;

use kyso::clients::{self, Role};
use kyso::config::{DemoData, Settings};
use kyso::pdf::verify::{self, report::Indication};
use kyso::pki::dev::SignerKind;
use kyso::pki::keystore::Pkcs12Files;
use kyso::pki::pkcs11::KeyUri;
use kyso::signing::{Level, Placement, SignRequest};
use kyso::telemetry::LogFormat;
use kyso::{app, db, pki, signers, Error, Result};

#[derive(Parser)]
#[command(
    name = "kyso",
    version,
    about = "Ký số: PAdES signing and verification for commune governments"
)]
struct Cli {
    /// Settings file (TOML). Without one kyso runs in dev mode with the dev PKI.
    #[arg(long, global = true, env = "KYSO_CONFIG")]
    config: Option<PathBuf>,
    /// Log lines as readable text or as JSON objects (one a line).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service.
    Serve {
        /// Dev mode's demo data: the dev PKI's three invented communes (`minimal`, the
        /// default), Hải Phòng's 114 real units in a roll-out under way (`haiphong`), or none.
        #[arg(long, value_enum)]
        demo: Option<DemoData>,
    },
    /// Demo data (dev mode only).
    Demo {
        #[command(subcommand)]
        command: DemoCommand,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Certificates and keys.
    Pki {
        #[command(subcommand)]
        command: PkiCommand,
    },
    /// Signers (officials and agencies) and their keys.
    Signer {
        #[command(subcommand)]
        command: SignerCommand,
    },
    /// API keys.
    Apikey {
        #[command(subcommand)]
        command: ApikeyCommand,
    },
    /// Sign a PDF offline with a registered signer. The PIN is read from the first line of
    /// standard input (never from the command line, where other users could see it).
    Sign {
        input: PathBuf,
        output: PathBuf,
        #[arg(long)]
        signer: String,
        #[arg(long, default_value = "B-B")]
        level: String,
        #[arg(long)]
        reason: Option<String>,
        #[arg(long)]
        location: Option<String>,
        /// Visible signature, JSON `{"page": 1, "rect": [x1, y1, x2, y2]}`.
        #[arg(long)]
        visible: Option<String>,
    },
    /// Bring a signed PDF (anyone's) to B-LT or B-LTA in further incremental updates, its
    /// earlier revisions untouched.
    Extend {
        input: PathBuf,
        output: PathBuf,
        #[arg(long, default_value = "B-LT")]
        level: String,
    },
    /// Issued documents kept verifiable in the long term (PAdES B-LTA).
    Archive {
        #[command(subcommand)]
        command: ArchiveCommand,
    },
    /// Check every signature of a PDF: exit 0 when all are intact, 1 otherwise, 2 when the
    /// file cannot be read. Several files or folders (or `--format`): one summary row per
    /// file, exit 1 when any file does not pass.
    Verify {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
        /// Validate as of this time (RFC 3339, e.g. `2032-11-30T09:00:00+07:00`) instead of
        /// now: timestamps in the file prove earlier times for certificates no longer valid.
        #[arg(long, value_parser = parse_time)]
        at: Option<chrono::DateTime<chrono::Utc>>,
        /// The summary of many files: `csv` (the default) or `json`.
        #[arg(long, value_enum)]
        format: Option<SummaryFormat>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum SummaryFormat {
    Csv,
    Json,
}

#[derive(Subcommand)]
enum DemoCommand {
    /// Load a demo data set into the database; a second load changes nothing, and a database
    /// already holding other records of those communes is refused.
    Load {
        #[arg(value_enum)]
        set: DemoData,
    },
}

#[derive(Subcommand)]
enum ArchiveCommand {
    /// Add a new document timestamp to every stored document whose newest timestamp's
    /// authority certificate expires within `archive.refresh_days_before_expiry` days; prints
    /// what was done (JSON), exits 1 when a document could not be refreshed.
    Refresh,
}

#[derive(Subcommand)]
enum PkiCommand {
    /// (Re)generate the development PKI (never for real documents).
    DevInit {
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum SignerCommand {
    /// Register a signer (or replace its certificate and key): its commune must exist, and its
    /// certificate must also be uploaded to the roll-out registry before it can sign.
    Add {
        #[arg(long)]
        id: String,
        #[arg(long)]
        commune: String,
        #[arg(long, value_enum)]
        kind: SignerKind,
        #[arg(long)]
        name: String,
        #[arg(long)]
        title: String,
        /// The signer's certificate (PEM).
        #[arg(long)]
        certificate: PathBuf,
        /// The PKCS#12 file holding the key, relative to `pki.key_dir` or absolute.
        #[arg(long, required_unless_present = "key", conflicts_with = "key")]
        pkcs12: Option<PathBuf>,
        /// A key on a token or HSM, as an RFC 7512 URI: `pkcs11:token=<label>;object=<label>`
        /// (the module is `pki.pkcs11_module`).
        #[arg(long)]
        key: Option<String>,
    },
}

#[derive(Subcommand)]
enum ApikeyCommand {
    /// Create a key and print it once.
    Create {
        #[arg(long, value_enum)]
        role: Role,
        #[arg(long)]
        commune: Option<String>,
        #[arg(long, default_value = "")]
        label: String,
        /// When the key stops working: an RFC 3339 time, a date (`2027-06-30`, end of that
        /// day in Vietnam), or a number of days from now (`90d`).
        #[arg(long, value_parser = parse_expiry)]
        expires: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Revoke a key at once (its dashboard sessions end with it).
    Revoke {
        /// The client id printed when the key was created.
        id: String,
    },
}

/// `--at`: RFC 3339.
fn parse_time(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.to_utc())
        .map_err(|e| format!("an RFC 3339 time such as 2032-11-30T09:00:00+07:00: {e}"))
}

/// `--expires`: RFC 3339, a day (its end, Vietnam time) or `<n>d`.
fn parse_expiry(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    use chrono::{DateTime, NaiveDate, Utc};
    if let Some(days) = text.strip_suffix('d') {
        let days: i64 = days
            .parse()
            .map_err(|_| format!("`{text}`: not a number of days"))?;
        return Ok(Utc::now() + chrono::Duration::days(days));
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return day
            .succ_opt()
            .and_then(|next| next.and_hms_opt(0, 0, 0))
            .and_then(kyso::vietnam::from_local)
            .ok_or_else(|| format!("`{text}`: day out of range"));
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("`{text}`: expected RFC 3339, YYYY-MM-DD or <n>d ({e})"))
}

/// Many files (or a folder, or `--format`) are answered by a summary, one file by its report.
fn summary_format(
    files: &[PathBuf],
    json: bool,
    format: Option<SummaryFormat>,
) -> Option<SummaryFormat> {
    let many = files.len() > 1 || files.iter().any(|f| f.is_dir());
    let json = json.then_some(SummaryFormat::Json);
    format.or(many.then(|| json.unwrap_or(SummaryFormat::Csv)))
}

/// `kyso verify DIR|FILE…`: one row per file on standard output; exit 1 when any fails.
fn verify_many(
    paths: &[PathBuf],
    format: SummaryFormat,
    ctx: &verify::Context<'_>,
) -> Result<ExitCode> {
    let summary = kyso::verify_batch::verify_files(&kyso::verify_batch::files(paths)?, ctx);
    let text = match format {
        SummaryFormat::Csv => summary.to_csv()?,
        SummaryFormat::Json => {
            let mut json = serde_json::to_vec_pretty(&summary).map_err(Error::internal)?;
            json.push(b'\n');
            json
        }
    };
    match std::io::Write::write_all(&mut std::io::stdout().lock(), &text) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(Error::internal(e)),
        _ => {}
    }
    Ok(ExitCode::from(u8::from(summary.failed > 0)))
}

/// Demo data needs dev mode: its certificates come from the dev CA.
fn demo_set(settings: &Settings, set: DemoData) -> Result<DemoData> {
    if settings.dev_mode {
        Ok(set)
    } else {
        Err(Error::config(
            "demo data is for dev mode (no --config): its certificates come from the dev CA",
        ))
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    kyso::telemetry::init(cli.log_format);
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kyso: {e}");
            ExitCode::from(2)
        }
    }
}

/// How to run this binary again with the same configuration, as a person would paste it: the
/// executable relative to the working directory when it is under it (`target/release/kyso`
/// after `cargo run`, which puts nothing on the PATH).
fn invocation(config: Option<&std::path::Path>) -> String {
    let exe = std::env::current_exe().unwrap_or_else(|_| "kyso".into());
    let exe = std::env::current_dir()
        .ok()
        .and_then(|cwd| exe.strip_prefix(cwd).ok().map(|p| p.to_path_buf()))
        .unwrap_or(exe);
    match config {
        Some(config) => format!("{} --config {}", exe.display(), config.display()),
        None => exe.display().to_string(),
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let mut settings = Settings::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve { demo } => {
            if let Some(demo) = demo {
                settings.demo = demo_set(&settings, demo)?;
            }
            let dev = settings.dev_mode;
            let application = kyso::server::build(settings)?;
            let port = application.port();
            let verify_page = format!("http://127.0.0.1:{port}/verify");
            tracing::info!(port, dev, verify_page, "kyso is listening");
            // The guide for a person; a JSON log stays one object per line.
            if cli.log_format == LogFormat::Text {
                eprintln!(
                    "{}",
                    app::announcement(port, dev, &invocation(cli.config.as_deref()))
                );
            }
            actix_web::rt::System::new()
                .block_on(application.run_until_stopped())
                .map_err(Error::internal)?;
        }
        Command::Migrate => {
            db::connect(&settings.database_url)?;
        }
        Command::Demo {
            command: DemoCommand::Load { set },
        } => {
            settings.demo = demo_set(&settings, set)?;
            // Loading is what a dev-mode start with `--demo SET` does.
            app::prepare(settings)?;
            eprintln!("demo data loaded: `kyso serve` shows it on /rollout");
        }
        Command::Pki {
            command: PkiCommand::DevInit { dir },
        } => {
            let dir = dir.unwrap_or(settings.pki.dev_dir);
            let manifest = pki::dev::dev_init(&dir, Some(&settings.public_base_url))?;
            println!(
                "dev PKI written to {} ({} signers); see {}",
                dir.display(),
                manifest.signers.len(),
                dir.join(pki::dev::MANIFEST).display()
            );
        }
        Command::Signer {
            command:
                SignerCommand::Add {
                    id,
                    commune,
                    kind,
                    name,
                    title,
                    certificate,
                    pkcs12,
                    key,
                },
        } => {
            let key_ref = match (key, pkcs12) {
                (Some(uri), _) => {
                    KeyUri::parse(&uri)?;
                    uri
                }
                (None, Some(path)) => Pkcs12Files::key_ref(&path),
                (None, None) => return Err(Error::bad_request("--pkcs12 or --key")),
            };
            let state = app::prepare(settings)?;
            let pem = std::fs::read(&certificate)
                .map_err(|e| Error::bad_request(format!("{}: {e}", certificate.display())))?;
            let new = signers::NewSigner {
                id: &id,
                kind,
                commune: &commune,
                name: &name,
                title: &title,
                certificate_pem: &pem,
                key_ref,
            };
            // Only certificates this instance trusts: in production that excludes the dev PKI.
            let cert = pki::Certificate::from_pem(&pem)
                .ok_or_else(|| Error::CertificateMalformed(certificate.display().to_string()))?;
            state.trust.chain(&cert, &[], chrono::Utc::now()).map_err(|e| {
                Error::CertificateNotValid(format!(
                    "no valid chain to a trust anchor ({e:?}); put its CA certificates in pki.trust_dir"
                ))
            })?;
            let mut conn = db::get(&state.pool)?;
            signers::commune(&mut conn, &commune)?;
            signers::upsert(&mut conn, &new, false)?;
            eprintln!("signer {id} registered");
        }
        Command::Apikey {
            command:
                ApikeyCommand::Create {
                    role,
                    commune,
                    label,
                    expires,
                },
        } => {
            // Dev mode registers the demo communes a portal key may name.
            let state = app::prepare(settings)?;
            let (client, key) = clients::create_until(
                &mut *db::get(&state.pool)?,
                role,
                commune.as_deref(),
                &label,
                expires,
            )?;
            eprintln!(
                "API key {} ({}) — shown once, store it now:",
                client.id,
                role.as_str()
            );
            println!("{key}");
        }
        Command::Apikey {
            command: ApikeyCommand::Revoke { id },
        } => {
            let state = app::prepare(settings)?;
            clients::revoke(&mut *db::get(&state.pool)?, &id)?;
            eprintln!("API key {id} revoked");
        }
        Command::Sign {
            input,
            output,
            signer,
            level,
            reason,
            location,
            visible,
        } => {
            let state = app::prepare(settings)?;
            let pdf = kyso::input::MappedFile::open(&input)
                .map_err(|e| Error::bad_request(format!("{}: {e}", input.display())))?;
            let mut pin = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut pin)
                .map_err(Error::internal)?;
            let request = SignRequest {
                signer_id: signer,
                pin: SecretString::from(pin.trim_end().to_owned()),
                reason,
                location,
                level: Level::parse(&level)?,
                visible: visible
                    .map(|v| serde_json::from_str::<Placement>(&v))
                    .transpose()
                    .map_err(|e| Error::bad_request(format!("--visible: {e}")))?,
            };
            let mut conn = kyso::db::get(&state.pool)?;
            let signed = pdf.read(|pdf| state.signing().sign(&mut conn, None, pdf, &request))?;
            signed.logged.wait()?;
            std::fs::write(&output, signed.pdf)
                .map_err(|e| Error::bad_request(format!("{}: {e}", output.display())))?;
        }
        Command::Extend {
            input,
            output,
            level,
        } => {
            let level = Level::parse_long_term(&level)?;
            let state = app::prepare(settings)?;
            let pdf = std::fs::read(&input)
                .map_err(|e| Error::bad_request(format!("{}: {e}", input.display())))?;
            let extended = state.signing().extend(&pdf, level)?;
            std::fs::write(&output, extended)
                .map_err(|e| Error::bad_request(format!("{}: {e}", output.display())))?;
        }
        Command::Archive {
            command: ArchiveCommand::Refresh,
        } => {
            let state = app::prepare(settings)?;
            let outcome = kyso::documents::archive::refresh(
                &state.pool,
                &state.settings,
                &state.signing(),
                chrono::Utc::now(),
            )?;
            println!(
                "{}",
                serde_json::to_string_pretty(&outcome).map_err(Error::internal)?
            );
            return Ok(ExitCode::from(u8::from(!outcome.failed.is_empty())));
        }
        Command::Verify {
            files,
            json,
            format,
            at,
        } => {
            kyso::pki::start_openssl_lean();
            let verifier = app::Verifier::load(&settings)?;
            let mut context = verifier.context();
            context.now = at.unwrap_or(context.now);
            if let Some(format) = summary_format(&files, json, format) {
                return verify_many(&files, format, &context);
            }
            return verify_file(&context, &files[0], json);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `kyso verify`: read-only (no database, nothing written), exit 0 when every signature is
/// intact, 1 otherwise.
fn verify_file(context: &verify::Context, file: &std::path::Path, json: bool) -> Result<ExitCode> {
    let pdf = kyso::input::MappedFile::open(file)
        .map_err(|e| Error::bad_request(format!("{}: {e}", file.display())))?;
    let report = pdf.read(|bytes| verify::verify(bytes, context))?;
    let text = if json {
        serde_json::to_string_pretty(&report).map_err(Error::internal)? + "\n"
    } else {
        report_text(&report)
    };
    // A reader that stops early (`kyso verify --json FILE | head`) is not an error.
    match std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(Error::internal(e)),
        _ => {}
    }
    let passed = report.indication == Indication::TotalPassed;
    Ok(ExitCode::from(if passed { 0 } else { 1 }))
}

fn report_text(report: &verify::report::Report) -> String {
    let mut text = String::new();
    for s in &report.signatures {
        let who = s
            .signer
            .as_ref()
            .and_then(|c| c.common_name.as_deref())
            .unwrap_or("?");
        let sub = s
            .sub_indication
            .map(|x| format!(" / {x}"))
            .unwrap_or_default();
        text += &format!("{} ({who}): {}{sub}\n", s.field, s.indication);
        text += &format!("  {}\n", s.explanation.vi);
        for p in &s.problems {
            text += &format!("  - {p}\n");
        }
    }
    text + &format!("{}\n", report.summary.vi)
}
