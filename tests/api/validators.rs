//! Independent validators, run as external programs, for checking what kyso produces:
//! poppler's `pdfsig`/`pdftotext`, `qpdf`, and pyHanko (see `/work/shared/TESTING.md`).
//!
//! Every helper is blocking (`std::process::Command`) and writes its inputs to a fresh
//! [`tempfile::TempDir`]. A missing tool is a panic telling to run `.ci/setup`: tests never skip
//! silently. pyHanko is taken from `<CARGO_MANIFEST_DIR>/.venv-validators/bin/pyhanko` unless
//! the environment variable `KYSO_PYHANKO` names another executable.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

/// One signature as `pdfsig` reports it.
#[derive(Debug, Clone)]
pub struct PdfsigSignature {
    /// "Signature is Valid." (the CMS signature verifies over the signed byte ranges).
    pub valid: bool,
    /// "Certificate is Trusted." (the chain ends at the `root_pem` given to [`pdfsig`]).
    pub trusted: bool,
    /// "Total document signed": the byte ranges cover the whole file (true only for the last
    /// signature of a file, and only if nothing was appended after it).
    pub total_document_signed: bool,
    /// "Signer Certificate Common Name".
    pub signer: String,
    /// A document timestamp, which pdfsig lists but cannot check.
    pub document_timestamp: bool,
    /// This signature's block of `pdfsig` output, for assertion messages.
    pub raw: String,
}

/// Runs `pdfsig` with a fresh NSS database that trusts only `root_pem`, and returns the
/// signatures in document order (empty when the file has none). Panics when `pdfsig` fails for
/// any other reason (e.g. the file cannot be parsed).
///
/// Not `-no-ocsp`: with it, poppler 22.12 reports every chain as "Unknown issue with
/// Certificate or corrupted data.". Without it pdfsig queries the OCSP responder named in a
/// certificate's AIA extension, if any.
pub fn pdfsig(pdf: &[u8], root_pem: &Path) -> Vec<PdfsigSignature> {
    let dir = temp_dir();
    let nss = dir.path().join("nssdb");
    std::fs::create_dir(&nss).unwrap_or_else(|e| panic!("creating {}: {e}", nss.display()));
    let nss_arg = format!("sql:{}", nss.display());
    let root = std::fs::canonicalize(root_pem)
        .unwrap_or_else(|e| panic!("trust anchor {}: {e}", root_pem.display()));
    run_ok(
        Command::new("certutil")
            .args(["-N", "-d", &nss_arg, "--empty-password"])
            .current_dir(dir.path()),
        "certutil",
    );
    run_ok(
        Command::new("certutil")
            .args([
                "-A",
                "-d",
                &nss_arg,
                "-n",
                "kyso test root",
                "-t",
                "CT,C,C",
                "-i",
            ])
            .arg(&root)
            .current_dir(dir.path()),
        "certutil",
    );
    let input = write_input(&dir, "signed.pdf", pdf);
    let output = run(
        Command::new("pdfsig")
            .args(["-nssdir", &nss_arg])
            .arg(&input)
            .current_dir(dir.path()),
        "pdfsig",
    );
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if stdout.contains("does not contain any signatures") {
        return Vec::new();
    }
    if !output.status.success() {
        panic!("pdfsig failed ({}):\n{stdout}{stderr}", output.status);
    }
    parse_pdfsig(&stdout)
}

/// Splits `pdfsig` output into one block per "Signature #n:" header.
fn parse_pdfsig(stdout: &str) -> Vec<PdfsigSignature> {
    let mut blocks: Vec<String> = Vec::new();
    for line in stdout.lines() {
        if line.starts_with("Signature #") {
            blocks.push(String::new());
        }
        if let Some(block) = blocks.last_mut() {
            block.push_str(line);
            block.push('\n');
        }
    }
    blocks
        .into_iter()
        .map(|raw| {
            let field = |name: &str| {
                raw.lines()
                    .filter_map(|line| line.trim_start().strip_prefix("- "))
                    .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
                    .map(|value| value.trim().to_owned())
            };
            PdfsigSignature {
                valid: field("Signature Validation").as_deref() == Some("Signature is Valid."),
                trusted: field("Certificate Validation").as_deref()
                    == Some("Certificate is Trusted."),
                total_document_signed: raw
                    .lines()
                    .any(|line| line.trim() == "- Total document signed"),
                signer: field("Signer Certificate Common Name").unwrap_or_default(),
                document_timestamp: field("Signature Type").as_deref() == Some("unknown")
                    && field("Signature Validation")
                        .is_some_and(|v| v.starts_with("Signature has not yet been verified")),
                raw,
            }
        })
        .collect()
}

/// Validates EVERY signature of the file with pyHanko:
/// `pyhanko sign validate --trust <root> --trust-replace`, which checks each `/Sig` signature in
/// signing order (integrity, chain to `root_pem`, and difference analysis of later revisions)
/// and prints one `<field>:<signer cert sha256>:<status>` line per signature.
///
/// `Ok` holds those lines, e.g. `Sig1:<sha>:INTACT:TRUSTED,UNTOUCHED` for a last signature or
/// `…:INTACT:TRUSTED,EXTENDED_WITH_FORM_FILLING,ACCEPTABLE_MODIFICATIONS` for an earlier one.
/// `Err` holds the `--pretty-print` report when any signature fails, and is also returned when
/// pyHanko finds no signature at all, or skips one (unsupported `/SubFilter`) — cases where
/// its own exit status would be 0. Document timestamps (`/DocTimeStamp`) are not validated by
/// this command.
///
/// pyHanko refuses to validate signatures in hybrid-reference files ("Settings do not permit
/// validation of signatures in hybrid-reference files") unless `--no-strict-syntax` is given;
/// it is given for files containing `/XRefStm`, and only for them.
pub fn pyhanko_validate(pdf: &[u8], root_pem: &Path) -> Result<Vec<String>, String> {
    pyhanko_check("validate", pdf, root_pem)
}

/// `pyhanko sign <subcommand> --trust <root> --trust-replace`, as [`pyhanko_validate`]
/// describes.
fn pyhanko_check(subcommand: &str, pdf: &[u8], root_pem: &Path) -> Result<Vec<String>, String> {
    let dir = temp_dir();
    let input = write_input(&dir, "signed.pdf", pdf);
    let root = std::fs::canonicalize(root_pem)
        .unwrap_or_else(|e| panic!("trust anchor {}: {e}", root_pem.display()));
    let validate = |pretty: bool| {
        let mut command = pyhanko_command();
        command
            .args(["sign", subcommand, "--trust"])
            .arg(&root)
            .arg("--trust-replace");
        if is_hybrid(pdf) {
            command.arg("--no-strict-syntax");
        }
        if pretty {
            command.arg("--pretty-print");
        }
        command.arg(&input).current_dir(dir.path());
        run(&mut command, "pyhanko")
    };

    let summary = validate(false);
    let stdout = String::from_utf8_lossy(&summary.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&summary.stderr).into_owned();
    let lines: Vec<String> = stdout
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect();
    let skipped = stderr.contains("unsupported SubFilter");
    if summary.status.success() && !lines.is_empty() && !skipped {
        return Ok(lines);
    }

    let pretty = validate(true);
    let mut report = format!(
        "pyhanko sign {subcommand}: exit {}, {} signature(s) reported{}\n--- summary ---\n{stdout}{stderr}",
        summary.status,
        lines.len(),
        if skipped {
            ", some signature skipped (unsupported /SubFilter)"
        } else {
            ""
        },
    );
    report.push_str("--- --pretty-print ---\n");
    report.push_str(&String::from_utf8_lossy(&pretty.stdout));
    report.push_str(&String::from_utf8_lossy(&pretty.stderr));
    Err(report)
}

/// PAdES long-term validation with pyHanko: `pyhanko sign adesverify --trust <root>
/// --trust-replace`, which pyhanko-cli 0.6 offers in place of the older `validate
/// --ltv-profile pades|pades-lta`: the ETSI EN 319 102-1 validation with past signature
/// validation over the document timestamps, requiring revocation data for every certificate
/// below the anchor. The dev certificates name no CRL or OCSP URL, so that data can only
/// come from the file. `Ok` holds the summary lines, `Err` the `--pretty-print` report.
pub fn pyhanko_ades_validate(pdf: &[u8], root_pem: &Path) -> Result<Vec<String>, String> {
    pyhanko_check("adesverify", pdf, root_pem)
}

/// What `qpdf --check`, pdfsig and pyHanko object to in `pdf`, which must carry exactly
/// `signatures` signatures, each intact and trusted (chain to `root_pem`), none broken by a later
/// revision, the last covering the whole file. One line per objection, naming the validator;
/// empty when all three accept the file.
pub fn independent_problems(pdf: &[u8], root_pem: &Path, signatures: usize) -> Vec<String> {
    let mut problems = Vec::new();
    if let Err(e) = qpdf_check(pdf) {
        problems.push(e);
    }

    // pdfsig (poppler 22) lists document timestamps without checking them ("Signature Type:
    // unknown", "Signature has not yet been verified"); the archive timestamps of a
    // B-LTA file are judged by pyHanko's ETSI validation below.
    let (stamps, sigs): (Vec<_>, Vec<_>) = pdfsig(pdf, root_pem)
        .into_iter()
        .partition(|sig| sig.document_timestamp);
    let archived = document_timestamps(pdf);
    if stamps.len() != archived {
        problems.push(format!(
            "pdfsig: {} document timestamp(s), the file has {archived}",
            stamps.len()
        ));
    }
    if sigs.len() != signatures {
        problems.push(format!(
            "pdfsig: {} signature(s), expected {signatures}",
            sigs.len()
        ));
    }
    for (i, sig) in sigs.iter().enumerate() {
        if !(sig.valid && sig.trusted) {
            problems.push(format!(
                "pdfsig: signature #{} not valid and trusted:\n{}",
                i + 1,
                sig.raw
            ));
        }
    }
    // Updates after the last signature: only PAdES B-LT/B-LTA validation data and document
    // timestamps may follow it, which pyHanko's ETSI validation (past signature validation,
    // validation data from the file only) checks along with the timestamps themselves.
    let appended = archived > 0 || sigs.last().is_some_and(|sig| !sig.total_document_signed);
    if appended {
        match pyhanko_ades_validate(pdf, root_pem) {
            Err(report) => problems.push(pyhanko_headline(&report)),
            Ok(lines) if lines.len() != signatures => problems.push(format!(
                "pyHanko adesverify: {} signature(s), expected {signatures}: {lines:?}",
                lines.len()
            )),
            Ok(_) => {}
        }
    }

    match pyhanko_validate(pdf, root_pem) {
        Err(report) => problems.push(pyhanko_headline(&report)),
        Ok(lines) => {
            if lines.len() != signatures {
                problems.push(format!(
                    "pyHanko: {} signature(s), expected {signatures}: {lines:?}",
                    lines.len()
                ));
            }
            // ILLEGAL_MODIFICATIONS also makes pyHanko exit non-zero; checked here as well so
            // the verdict does not rest on the exit status alone.
            for line in &lines {
                if !line.contains(":INTACT:TRUSTED")
                    || ["ILLEGAL_MODIFICATIONS", "NONSTANDARD_COVERAGE"]
                        .iter()
                        .any(|bad| line.contains(bad))
                {
                    problems.push(format!("pyHanko: {line}"));
                }
            }
        }
    }
    problems
}

/// The lines of a failed [`pyhanko_validate`] report that say what failed (its first line, the
/// signatures not intact, trusted and untouched or acceptably extended, pyHanko's warnings and
/// errors), without the long `--pretty-print` part unless nothing else explains the failure.
fn pyhanko_headline(report: &str) -> String {
    let telling: Vec<&str> = report
        .split("--- --pretty-print ---")
        .next()
        .unwrap_or_default()
        .lines()
        .filter(|line| {
            !line.starts_with("---")
                && !(line.contains(":INTACT:TRUSTED")
                    && (line.ends_with("UNTOUCHED") || line.ends_with("ACCEPTABLE_MODIFICATIONS")))
        })
        .collect();
    if telling.len() < 2 {
        report.to_owned()
    } else {
        telling.join("\n    ")
    }
}

/// How many document timestamps (`/Type /DocTimeStamp`) the file holds.
pub fn document_timestamps(pdf: &[u8]) -> usize {
    let key = b"/DocTimeStamp";
    pdf.windows(key.len()).filter(|w| w == key).count()
}

/// `qpdf --check`; `Err` holds qpdf's output when it exits non-zero (3 means warnings only,
/// which is also an error here).
pub fn qpdf_check(pdf: &[u8]) -> Result<(), String> {
    let dir = temp_dir();
    let input = write_input(&dir, "input.pdf", pdf);
    let output = run(
        Command::new("qpdf")
            .arg("--check")
            .arg(&input)
            .current_dir(dir.path()),
        "qpdf",
    );
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "qpdf --check: {}\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// The text of all pages (`pdftotext -layout`, UTF-8, pages separated by form feeds).
/// Panics when pdftotext fails.
pub fn pdftotext(pdf: &[u8]) -> String {
    let dir = temp_dir();
    let input = write_input(&dir, "input.pdf", pdf);
    let output = run(
        Command::new("pdftotext")
            .args(["-layout", "-enc", "UTF-8"])
            .arg(&input)
            .arg("-")
            .current_dir(dir.path()),
        "pdftotext",
    );
    if !output.status.success() {
        panic!(
            "pdftotext failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    String::from_utf8(output.stdout).unwrap_or_else(|e| panic!("pdftotext output: {e}"))
}

/// Each signature value (the CMS `ContentInfo`, DER) in document order, from `pdfsig -dump`.
/// pdfsig writes the whole `/Contents` string, zero padding included; it is cut here at the
/// end of the outer DER element (the dump is returned whole if that length cannot be read).
pub fn pdfsig_dump(pdf: &[u8]) -> Vec<Vec<u8>> {
    let dir = temp_dir();
    let input = write_input(&dir, "signed.pdf", pdf);
    let output = run(
        Command::new("pdfsig")
            .args(["-nocert", "-no-ocsp", "-dump"])
            .arg(&input)
            .current_dir(dir.path()),
        "pdfsig",
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    if stdout.contains("does not contain any signatures") {
        return Vec::new();
    }
    if !output.status.success() {
        panic!(
            "pdfsig -dump failed ({}):\n{stdout}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    // Files are named `<input file name>.sig<n>`, n from 0.
    let mut dumps: Vec<(usize, PathBuf)> = std::fs::read_dir(dir.path())
        .unwrap_or_else(|e| panic!("listing {}: {e}", dir.path().display()))
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let name = path.file_name()?.to_str()?;
            let index = name.strip_prefix("signed.pdf.sig")?.parse().ok()?;
            Some((index, path))
        })
        .collect();
    dumps.sort();
    dumps
        .into_iter()
        .map(|(_, path)| {
            let mut blob =
                std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            if let Some(len) = der_length(&blob) {
                blob.truncate(len);
            }
            blob
        })
        .collect()
}

/// Total length (header + content) of the DER element at the start of `bytes`, if its header
/// is a definite length that fits.
fn der_length(bytes: &[u8]) -> Option<usize> {
    let first = *bytes.get(1)?;
    let (header, content) = if first < 0x80 {
        (2, usize::from(first))
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let content = bytes
            .get(2..2 + count)?
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (2 + count, content)
    };
    let total = header + content;
    (total <= bytes.len()).then_some(total)
}

/// Signs `pdf` with pyHanko as a third party would: a PAdES signature in field `field`
/// (created invisible if absent; `PAGE/X1,Y1,X2,Y2/NAME` makes a visible one), key and chain
/// from the PKCS#12 file `pkcs12` protected by `pin` (an empty `pin` means an unencrypted
/// PKCS#12); B-T with a timestamp from `timestamp_url`, else B-B. Returns the signed file.
///
/// pyHanko refuses hybrid-reference files (a trailer with `/XRefStm`) in its default strict
/// mode, so for those inputs `--no-strict-syntax` is passed.
pub fn pyhanko_sign(
    pdf: &[u8],
    field: &str,
    pkcs12: &Path,
    pin: &str,
    timestamp_url: Option<&str>,
) -> Vec<u8> {
    pyhanko_sign_with(
        pdf,
        field,
        pkcs12,
        pin,
        timestamp_url,
        &["--use-pades".as_ref()],
    )
}

/// Signs `pdf` with pyHanko as Acrobat-era signers do: `adbe.pkcs7.detached` with the
/// revocation data of the chain to `root_pem` (fetched from the certificates' URLs) in the
/// signed attribute adbe-revocationInfoArchival, and no DSS (`--with-validation-info`
/// without `--use-pades`). Otherwise as [`pyhanko_sign`].
pub fn pyhanko_sign_adobe_revinfo(
    pdf: &[u8],
    pkcs12: &Path,
    pin: &str,
    timestamp_url: &str,
    root_pem: &Path,
) -> Vec<u8> {
    let root = std::fs::canonicalize(root_pem)
        .unwrap_or_else(|e| panic!("trust anchor {}: {e}", root_pem.display()));
    let options = [
        "--with-validation-info".as_ref(),
        "--trust".as_ref(),
        root.as_os_str(),
        "--trust-replace".as_ref(),
    ];
    pyhanko_sign_with(pdf, "Sig1", pkcs12, pin, Some(timestamp_url), &options)
}

fn pyhanko_sign_with(
    pdf: &[u8],
    field: &str,
    pkcs12: &Path,
    pin: &str,
    timestamp_url: Option<&str>,
    options: &[&std::ffi::OsStr],
) -> Vec<u8> {
    let dir = temp_dir();
    let input = write_input(&dir, "input.pdf", pdf);
    let output_path = dir.path().join("signed.pdf");
    let pkcs12 = std::fs::canonicalize(pkcs12)
        .unwrap_or_else(|e| panic!("PKCS#12 file {}: {e}", pkcs12.display()));
    let mut command = pyhanko_command();
    command
        .args(["sign", "addsig", "--field", field])
        .args(options)
        .current_dir(dir.path());
    if is_hybrid(pdf) {
        command.arg("--no-strict-syntax");
    }
    if let Some(url) = timestamp_url {
        command.args(["--timestamp-url", url]);
    }
    command.arg("pkcs12");
    if pin.is_empty() {
        command.arg("--no-pass");
    } else {
        let passfile = write_input(&dir, "pin.txt", pin.as_bytes());
        command.arg("--passfile").arg(passfile);
    }
    command.arg(&input).arg(&output_path).arg(&pkcs12);
    // pyHanko asks for an encrypted file's password: the empty user password, on stdin.
    let password: &[u8] = if is_encrypted(pdf) { b"\n" } else { b"" };
    let output = run_with_input(&mut command, "pyhanko", password);
    if !output.status.success() {
        panic!(
            "pyhanko sign addsig failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    std::fs::read(&output_path).unwrap_or_else(|e| panic!("reading {}: {e}", output_path.display()))
}

/// A CMS SignedData over `digest` (the SHA-256 of a PDF's byte ranges) as a signing service
/// that assembles its own makes it: pyHanko's PAdES signer (`Signer.async_sign`), key,
/// certificate and chain from PEM files. Returns the DER ContentInfo.
pub fn pyhanko_cms(digest: &[u8], key_pem: &Path, cert_pem: &Path, chain_pem: &Path) -> Vec<u8> {
    const SCRIPT: &str = "import asyncio, sys\n\
from pyhanko.sign import signers\n\
signer = signers.SimpleSigner.load(sys.argv[1], sys.argv[2], ca_chain_files=(sys.argv[3],))\n\
info = asyncio.run(signer.async_sign(bytes.fromhex(sys.argv[4]), 'sha256', use_pades=True))\n\
sys.stdout.buffer.write(info.dump())\n";
    let python = Path::new(pyhanko_command().get_program()).with_file_name("python");
    let output = Command::new(&python)
        .arg("-c")
        .arg(SCRIPT)
        .arg(key_pem)
        .arg(cert_pem)
        .arg(chain_pem)
        .arg(hex::encode(digest))
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", python.display()));
    assert!(
        output.status.success(),
        "pyHanko CMS: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// `<CARGO_MANIFEST_DIR>/test-artifacts/<name>`, created if needed (git-ignored): a place to
/// keep outputs worth looking at after a run.
pub fn artifact_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("test-artifacts")
        .join(name);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    dir
}

// ---------------------------------------------------------------------------------------------

fn pyhanko_command() -> Command {
    let program = std::env::var_os("KYSO_PYHANKO").map_or_else(
        || {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(".venv-validators")
                .join("bin")
                .join("pyhanko")
        },
        PathBuf::from,
    );
    if !program.exists() && std::env::var_os("KYSO_PYHANKO").is_none() {
        panic!(
            "pyHanko not found at {}: run `.ci/setup` (or set KYSO_PYHANKO)",
            program.display()
        );
    }
    Command::new(program)
}

/// pyHanko's ETSI EN 319 102-1 validation of every signature with online fetching off
/// (`validators/pyhanko_local.py`): what the file holds must do. A signature with a document
/// timestamp after it goes through the long-term process (§5.6.3), one without through the
/// process for signatures with time and long-term validation data (§5.5), the DSS as its
/// data. One `field:process:INDICATION:SUBINDICATION` line per signature; `Err` with the
/// output (the reasons on stderr) unless all passed.
pub fn pyhanko_file_only(pdf: &[u8], root_pem: &Path) -> Result<Vec<String>, String> {
    let dir = temp_dir();
    let input = write_input(&dir, "signed.pdf", pdf);
    // The venv's python, beside its pyhanko.
    let python = pyhanko_command().get_program().to_owned();
    let python = Path::new(&python).with_file_name("python");
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/validators/pyhanko_local.py");
    let output = run(
        Command::new(python)
            .arg(script)
            .arg(root_pem)
            .arg(&input)
            .current_dir(dir.path()),
        "pyhanko (file only)",
    );
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let lines: Vec<String> = stdout.lines().map(str::to_owned).collect();
    if output.status.success() && !lines.is_empty() {
        Ok(lines)
    } else {
        Err(format!(
            "{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// Whether any trailer of the file points to a cross-reference stream with `/XRefStm`
/// (a hybrid-reference file, ISO 32000-1 §7.5.8.4).
fn is_hybrid(pdf: &[u8]) -> bool {
    pdf.windows(b"/XRefStm".len())
        .any(|window| window == b"/XRefStm")
}

fn temp_dir() -> TempDir {
    tempfile::Builder::new()
        .prefix("kyso-validators-")
        .tempdir()
        .unwrap_or_else(|e| panic!("creating a temporary directory: {e}"))
}

fn write_input(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    path
}

/// Runs a tool with stdin closed (pyHanko would otherwise wait for a password); a tool that
/// cannot be started is a setup problem, reported as such.
fn run(command: &mut Command, tool: &str) -> Output {
    run_with_input(command, tool, b"")
}

/// Runs a tool with `input` on its stdin, then closed.
fn run_with_input(command: &mut Command, tool: &str, input: &[u8]) -> Output {
    let started = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            if let Some(mut stdin) = child.stdin.take() {
                std::io::Write::write_all(&mut stdin, input)?;
            }
            child.wait_with_output()
        });
    started.unwrap_or_else(|e| {
        panic!(
            "cannot run `{tool}` ({:?}): {e}. Install the independent validators with `.ci/setup`",
            command.get_program()
        )
    })
}

fn is_encrypted(pdf: &[u8]) -> bool {
    pdf.windows(b"/Encrypt".len()).any(|w| w == b"/Encrypt")
}

/// `pdf` encrypted by qpdf with an empty user password; `args` choose the algorithm, e.g.
/// `["128", "--use-aes=y"]` (qpdf `--encrypt "" owner …`).
pub fn qpdf_encrypt(pdf: &[u8], args: &[&str]) -> Vec<u8> {
    let dir = temp_dir();
    let input = write_input(&dir, "plain.pdf", pdf);
    let output = dir.path().join("encrypted.pdf");
    run_ok(
        Command::new("qpdf")
            .arg("--allow-weak-crypto")
            .args(["--encrypt", "", "owner"])
            .args(args)
            .arg("--")
            .arg(&input)
            .arg(&output),
        "qpdf",
    );
    std::fs::read(&output).unwrap_or_else(|e| panic!("reading {}: {e}", output.display()))
}

fn run_ok(command: &mut Command, tool: &str) {
    let output = run(command, tool);
    if !output.status.success() {
        panic!(
            "{tool} {:?} failed ({}):\n{}{}",
            command.get_args().collect::<Vec<_>>(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// One rendered page: its size in pixels and the share of pixels that are not white.
#[derive(Debug, Clone)]
pub struct RenderedPage {
    pub width: u32,
    pub height: u32,
    pub ink: f64,
    pub png: Vec<u8>,
    /// One byte per pixel, 0 black to 255 white.
    pub gray: Vec<u8>,
}

/// The contents of every QR code on the page (rqrr, an independent decoder).
pub fn qr_codes(page: &RenderedPage) -> Vec<String> {
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(
        page.width as usize,
        page.height as usize,
        |x, y| page.gray[y * page.width as usize + x],
    );
    image
        .detect_grids()
        .iter()
        .filter_map(|grid| grid.decode().ok().map(|(_, text)| text))
        .collect()
}

/// Renders every page with `pdftoppm -r 72 -png` (1 px = 1 pt) and measures it.
pub fn pdftoppm(pdf: &[u8]) -> Vec<RenderedPage> {
    pdftoppm_at(pdf, 72)
}

/// Renders every page at `dpi` and measures it.
pub fn pdftoppm_at(pdf: &[u8], dpi: u32) -> Vec<RenderedPage> {
    let dir = temp_dir();
    let input = write_input(&dir, "input.pdf", pdf);
    run_ok(
        Command::new("pdftoppm")
            .args(["-r", &dpi.to_string(), "-png"])
            .arg(&input)
            .arg(dir.path().join("page")),
        "pdftoppm",
    );
    let mut pages: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.path().display()))
        .map(|entry| entry.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    pages.sort();
    pages
        .iter()
        .map(|path| {
            let png = std::fs::read(path).expect("rendered page");
            let mut decoder = png::Decoder::new(std::io::Cursor::new(&png[..]));
            decoder
                .set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
            let mut reader = decoder.read_info().expect("PNG header");
            let mut buf = vec![0; reader.output_buffer_size().expect("size")];
            let frame = reader.next_frame(&mut buf).expect("PNG data");
            let channels = frame.color_type.samples();
            let pixels = &buf[..frame.buffer_size()];
            let inked = pixels
                .chunks_exact(channels)
                .filter(|px| px.iter().take(3).any(|&v| v < 200))
                .count();
            let gray = pixels
                .chunks_exact(channels)
                .map(|px| {
                    let rgb = &px[..channels.min(3)];
                    (rgb.iter().map(|&v| u32::from(v)).sum::<u32>() / rgb.len() as u32) as u8
                })
                .collect();
            RenderedPage {
                width: frame.width,
                height: frame.height,
                ink: inked as f64 / (frame.width as f64 * frame.height as f64),
                png,
                gray,
            }
        })
        .collect()
}

/// pyHanko's document timestamp over `pdf` with `md` ("sha512", "sha3_256", ...) as the
/// message imprint's hash, from its in-process test TSA (`DummyTimeStamper`) holding the key
/// and certificate of the PKCS#12 file `pkcs12`: an RFC 3161 token as a third party makes it.
pub fn pyhanko_document_timestamp(pdf: &[u8], pkcs12: &Path, pin: &str, md: &str) -> Vec<u8> {
    const SCRIPT: &str = r#"
import sys
from asn1crypto import keys, x509
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, pkcs12
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

inp, out, p12, pin, md = sys.argv[1:6]
key, cert, chain = pkcs12.load_key_and_certificates(open(p12, 'rb').read(), pin.encode())
der = lambda c: x509.Certificate.load(c.public_bytes(Encoding.DER))
stamper = DummyTimeStamper(
    tsa_cert=der(cert),
    tsa_key=keys.PrivateKeyInfo.load(key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())),
    certs_to_embed=[der(c) for c in chain],
)
with open(inp, 'rb') as f, open(out, 'wb') as o:
    signers.PdfTimeStamper(stamper).timestamp_pdf(IncrementalPdfFileWriter(f), md_algorithm=md, output=o)
"#;
    let dir = temp_dir();
    let input = write_input(&dir, "input.pdf", pdf);
    let output = dir.path().join("stamped.pdf");
    // The interpreter of pyHanko's virtualenv, beside the `pyhanko` script.
    let python = Path::new(pyhanko_command().get_program()).with_file_name("python");
    run_ok(
        Command::new(&python)
            .args(["-c", SCRIPT])
            .arg(&input)
            .arg(&output)
            .arg(pkcs12)
            .args([pin, md]),
        "pyhanko (python)",
    );
    std::fs::read(&output).unwrap_or_else(|e| panic!("reading {}: {e}", output.display()))
}
