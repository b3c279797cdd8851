//! Signing a PDF on behalf of a registered signer: who may sign, with which key, is the
//! certificate usable, then the PAdES signature and a line in the signing log. Nothing is
//! written unless the whole signature succeeded.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use diesel::prelude::*;
use secrecy::SecretString;
use serde::Deserialize;

use crate::clients::Client;
use crate::db::models::{Signer, SigningLogEntry};
use crate::db::schema::signing_log;
use crate::db::{self, DbConnection, Pool};
use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::pdf::read::Limits;
use crate::pdf::sign::{self, Appearance, SignatureSpec};
use crate::pki::cms::{sha256, SigningKey};
use crate::pki::keystore::KeyStore;
use crate::pki::revocation::{self, RevocationSource};
use crate::pki::trust::TrustStore;
use crate::pki::tsa::Timestamper;
use crate::pki::Certificate;
use crate::vietnam::{self, vietnam_time};
use crate::{rollout, signers};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum Level {
    #[default]
    #[serde(rename = "B-B")]
    BB,
    #[serde(rename = "B-T")]
    BT,
    /// B-T and a DSS with the validation data (ETSI EN 319 142-1 §6.3, level B-LT).
    #[serde(rename = "B-LT")]
    BLt,
    /// B-LT and a document timestamp over it, with the TSA's own validation data (B-LTA).
    #[serde(rename = "B-LTA")]
    BLta,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::BB => "B-B",
            Level::BT => "B-T",
            Level::BLt => "B-LT",
            Level::BLta => "B-LTA",
        }
    }

    /// The level of a signature the file is extended past later: B-T for B-LT and B-LTA.
    pub fn without_validation_data(self) -> Self {
        match self {
            Level::BLt | Level::BLta => Level::BT,
            other => other,
        }
    }

    /// B-LT and B-LTA: the file is extended past the signature, in updates of its own.
    pub fn extends(self) -> bool {
        matches!(self, Level::BLt | Level::BLta)
    }

    /// A level an existing signature can be extended to: B-LT or B-LTA.
    pub fn parse_long_term(text: &str) -> Result<Self> {
        match Self::parse(text)? {
            level @ (Level::BLt | Level::BLta) => Ok(level),
            other => Err(Error::bad_request(format!(
                "a signed document is extended to B-LT or B-LTA, not {}",
                other.as_str()
            ))),
        }
    }

    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "B-B" => Ok(Level::BB),
            "B-T" => Ok(Level::BT),
            "B-LT" => Ok(Level::BLt),
            "B-LTA" => Ok(Level::BLta),
            other => Err(Error::bad_request(format!(
                "level must be B-B, B-T, B-LT or B-LTA, not `{other}`"
            ))),
        }
    }
}

/// Where a visible signature goes: page (1-based) and [x1, y1, x2, y2] in points.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Placement {
    pub page: u32,
    pub rect: [f32; 4],
}

pub struct SignRequest {
    pub signer_id: String,
    pub pin: SecretString,
    pub reason: Option<String>,
    pub location: Option<String>,
    pub level: Level,
    pub visible: Option<Placement>,
}

/// What signing needs from the running service.
pub struct Signing<'a> {
    pub keys: &'a dyn KeyStore,
    pub revocation: &'a RevocationSource,
    /// Anchors the chains a DSS holds end at.
    pub trust: &'a TrustStore,
    pub timestamper: Option<&'a dyn Timestamper>,
    pub max_failed_pins: i32,
    pub lock: Duration,
    pub limits: Limits,
    /// Where `sign` records its signatures (group commit).
    pub log: &'a crate::signing_log::SigningLog,
    /// Where PIN attempts are claimed and given back (`db::relaxed`).
    pub claims: Option<&'a Pool>,
    /// Wakes claims waiting for an attempt this instance gives back.
    pub releases: &'a signers::ClaimReleases,
    /// Every signature made and every key locked is counted here, whichever path made it
    /// (`/sign`, issuing or sealing a document, `kyso sign`).
    pub metrics: &'a Metrics,
}

/// A signer whose checks passed and whose key is unlocked, ready to sign.
pub struct Unlocked {
    pub signer: Signer,
    key: SigningKey,
}

/// How one signature is made, besides who makes it.
#[derive(Clone, Copy, Default)]
pub struct SignOptions<'a> {
    pub reason: Option<&'a str>,
    pub location: Option<&'a str>,
    pub level: Level,
    pub visible: Option<Placement>,
    /// The name of the signer's commune, which a visible signature shows, when the caller has
    /// it at hand; else it is read.
    pub commune: Option<&'a str>,
}

impl SignOptions<'_> {
    /// The name of commune `code`, the signer's, for the appearance: as given, else read.
    pub fn commune_name(&self, conn: &mut DbConnection, code: &str) -> Result<String> {
        match self.commune {
            Some(name) => Ok(name.to_owned()),
            None => Ok(signers::commune(conn, code)?.name),
        }
    }
}

/// A signature made, and its line in the signing log being committed.
pub struct Signed {
    pub pdf: Vec<u8>,
    /// The signature is handed out once this resolves.
    pub logged: crate::signing_log::Pending,
}

impl Signing<'_> {
    /// Signs `pdf` for `client` (None: the local operator, e.g. `kyso sign`) on `conn`, which
    /// is in no transaction: the log's line joins the others being committed now.
    pub fn sign(
        &self,
        conn: &mut DbConnection,
        client: Option<&Client>,
        pdf: &[u8],
        req: &SignRequest,
    ) -> Result<Signed> {
        self.timestamper(req.level)?;
        let signer = Self::signer(conn, client, &req.signer_id)?;
        let unlocked = self.unlock(conn, client, &signer, &req.pin)?;
        self.logged(conn, client, &unlocked, pdf, req)
    }

    /// `sign`, if it takes no more than reads and one RSA signature in memory: a B-B
    /// signature whose key is held unlocked with this very PIN. `None`, with nothing written
    /// and no attempt counted, when it would take more (a timestamp, opening a key file, a
    /// token): then `sign` does it.
    pub fn sign_held(
        &self,
        conn: &mut DbConnection,
        client: Option<&Client>,
        pdf: &[u8],
        req: &SignRequest,
    ) -> Result<Option<Signed>> {
        if req.level != Level::BB {
            return Ok(None);
        }
        let signer = Self::signer(conn, client, &req.signer_id)?;
        match self.held(conn, client, &signer, &req.pin)? {
            Some(unlocked) => self.logged(conn, client, &unlocked, pdf, req).map(Some),
            None => Ok(None),
        }
    }

    /// Signer `id`'s row, for a client that may sign at all (a viewer's key learns nothing of
    /// signers).
    fn signer(conn: &mut DbConnection, client: Option<&Client>, id: &str) -> Result<Signer> {
        if let Some(client) = client {
            client.ensure_may_sign()?;
        }
        signers::find(conn, id)
    }

    /// The signature, its line handed to the signing log.
    fn logged(
        &self,
        conn: &mut DbConnection,
        client: Option<&Client>,
        unlocked: &Unlocked,
        pdf: &[u8],
        req: &SignRequest,
    ) -> Result<Signed> {
        let options = SignOptions {
            reason: req.reason.as_deref(),
            location: req.location.as_deref(),
            level: req.level,
            visible: req.visible,
            commune: None,
        };
        let (pdf, entry) = self.signature(conn, client, unlocked, pdf, &options)?;
        Ok(Signed {
            pdf,
            logged: self.log.append(entry)?,
        })
    }

    /// Who may sign and with which key: the client acts for the commune of `signer` (its row,
    /// as just read), the key is not locked, the certificate is valid and not revoked, and the
    /// PIN opens the key. A PIN that is not the one a held key was opened with is an attempt:
    /// claimed (with the signer's row, read anew in one statement) before anything else is
    /// checked, and given back unless the PIN was wrong. A wrong PIN is counted (and may lock
    /// the key) on `conn`, so call this outside any transaction that might roll back.
    pub fn unlock(
        &self,
        conn: &mut DbConnection,
        client: Option<&Client>,
        signer: &Signer,
        pin: &SecretString,
    ) -> Result<Unlocked> {
        if let Some(unlocked) = self.held(conn, client, signer, pin)? {
            return Ok(unlocked);
        }
        // Any other PIN is one counted attempt, on the row as the claim leaves it.
        let attempts = self.attempts();
        let signer = attempts.claim(conn, &signer.id, client.and_then(Client::confined_to))?;
        let opened =
            self.usable_certificate(conn, client, &signer)
                .and_then(|registered| match self.keys.unlock(&signer.key_ref, pin) {
                    Err(kyso_core::Error::WrongPin) => Ok(None),
                    Err(other) => Err(other.into()),
                    Ok(key) => Ok(Some((key, registered))),
                });
        let (key, registered) = match opened {
            Ok(Some(opened)) => opened,
            Ok(None) => {
                let wrong = attempts.wrong(conn, &signer.id, client.map(|c| c.id.as_str()))?;
                if wrong.locked {
                    self.metrics.pin_lockout();
                }
                return Err(Error::WrongPin {
                    attempts_left: wrong.attempts_left,
                });
            }
            Err(refused) => {
                attempts.give_back(conn, &signer.id)?;
                return Err(refused);
            }
        };
        attempts.give_back(conn, &signer.id)?;
        Self::unlocked(signer, key, &registered)
    }

    /// The signer with its key, if the key is held unlocked with this very PIN: the PIN is
    /// right, so there is nothing to count and no attempt is claimed (the row is only read).
    /// A locked key is refused all the same.
    fn held(
        &self,
        conn: &mut DbConnection,
        client: Option<&Client>,
        signer: &Signer,
        pin: &SecretString,
    ) -> Result<Option<Unlocked>> {
        if let Some(client) = client {
            client.ensure_may_sign()?;
        }
        signer.ensure_unlocked(client.and_then(Client::confined_to))?;
        let Some(key) = self.keys.unlocked(&signer.key_ref, pin) else {
            return Ok(None);
        };
        let registered = self.usable_certificate(conn, client, signer)?;
        Self::unlocked(signer.clone(), key, &registered).map(Some)
    }

    /// Only the registered certificate was checked; a key store holding another one (a token
    /// re-issued, a file replaced) must not sign under it.
    fn unlocked(signer: Signer, key: SigningKey, registered: &Certificate) -> Result<Unlocked> {
        if key.certificate.der() != registered.der() {
            return Err(Error::config(format!(
                "the key of signer `{}` holds a certificate other than the registered one",
                signer.id
            )));
        }
        Ok(Unlocked { signer, key })
    }

    fn attempts(&self) -> signers::PinAttempts<'_> {
        signers::PinAttempts {
            max: self.max_failed_pins,
            lock: self.lock,
            claims: self.claims,
            releases: self.releases,
        }
    }

    /// The signer's certificate as registered, if `client` acts for its commune and it may
    /// sign now: within its validity, in neither a loaded CRL nor the registry as revoked.
    fn usable_certificate(
        &self,
        conn: &mut DbConnection,
        client: Option<&Client>,
        signer: &Signer,
    ) -> Result<Certificate> {
        // The claim took only the client's commune's signers; this holds whatever that was.
        if client.is_some_and(|client| !client.may_act_for(&signer.commune_code)) {
            return Err(Error::UnknownSigner(signer.id.clone()));
        }
        let now = Utc::now();
        signer.check_validity(now)?;
        let certificate = signer.certificate()?;
        if self
            .revocation
            .files
            .revocation_time(&certificate)
            .is_some()
        {
            return Err(Error::CertificateRevoked);
        }
        rollout::certificates::check_signer(conn, signer, certificate.der(), now)?;
        Ok(certificate)
    }

    /// The authority B-T needs, or why there is none.
    pub fn timestamper(&self, level: Level) -> Result<Option<&dyn Timestamper>> {
        match level {
            Level::BB => Ok(None),
            level => Ok(Some(self.timestamper.ok_or_else(|| {
                Error::bad_request(format!(
                    "{} needs a time-stamping authority; none is configured",
                    level.as_str()
                ))
            })?)),
        }
    }

    /// The best level available for `signer`'s signatures: B-LTA when a time-stamping
    /// authority is configured and revocation data for its certificate is at hand (a loaded
    /// list of its issuer, or an OCSP responder or CRL to fetch), B-T with the authority
    /// alone, else B-B.
    pub fn best_level(&self, signer: &Signer) -> Level {
        if self.timestamper.is_none() {
            return Level::BB;
        }
        let Ok(cert) = signer.certificate() else {
            return Level::BT;
        };
        let issuer = cert.x509().issuer_name().to_der().ok();
        let fetchable = || {
            let urls = revocation::urls(&cert);
            self.revocation.fetching() && !(urls.ocsp.is_empty() && urls.crls.is_empty())
        };
        let has_data = fetchable()
            || self
                .revocation
                .files
                .all()
                .iter()
                .any(|crl| crl.issuer_name().to_der().ok() == issuer);
        if has_data {
            Level::BLta
        } else {
            Level::BT
        }
    }

    /// Signs with an unlocked key and records it in the signing log on `conn` (which may be
    /// inside the caller's transaction).
    pub fn sign_unlocked(
        &self,
        conn: &mut DbConnection,
        client: Option<&Client>,
        unlocked: &Unlocked,
        pdf: &[u8],
        options: &SignOptions<'_>,
    ) -> Result<Vec<u8>> {
        let (signed, entry) = self.signature(conn, client, unlocked, pdf, options)?;
        diesel::insert_into(signing_log::table)
            .values(&entry)
            .execute(conn)?;
        Ok(signed)
    }

    /// Signs with an unlocked key: the signed PDF and its line for the signing log, which the
    /// caller records with what the signature is for.
    pub fn signature(
        &self,
        conn: &mut DbConnection,
        client: Option<&Client>,
        unlocked: &Unlocked,
        pdf: &[u8],
        options: &SignOptions<'_>,
    ) -> Result<(Vec<u8>, SigningLogEntry)> {
        let (pdf, mut lines) = self.signatures(conn, client, &[(unlocked, options)], pdf)?;
        let line = lines
            .pop()
            .ok_or_else(|| Error::internal("no signature made"))?;
        Ok((pdf, line))
    }

    /// Signs `pdf` once per signer in turn, each over the file as the one before left it (an
    /// official's signature, then the agency's seal), the file read once
    /// (`sign::sign_in_turn`): the signed PDF and a line for the signing log per signature.
    /// Only the last signature may bring the file to B-LT or B-LTA, in updates after it.
    pub fn signatures(
        &self,
        conn: &mut DbConnection,
        client: Option<&Client>,
        signers: &[(&Unlocked, &SignOptions<'_>)],
        pdf: &[u8],
    ) -> Result<(Vec<u8>, Vec<SigningLogEntry>)> {
        let Some(((_, last), before)) = signers.split_last() else {
            return Err(Error::internal("no signer to sign with"));
        };
        if before.iter().any(|(_, options)| options.level.extends()) {
            return Err(Error::internal(
                "only the last of signatures in turn may extend the file",
            ));
        }
        let now = Utc::now();
        let time = vietnam_time(now);
        let specs = signers
            .iter()
            .map(|(unlocked, options)| self.spec(conn, &unlocked.signer, options, &time))
            .collect::<Result<Vec<_>>>()?;
        let keys: Vec<_> = specs
            .iter()
            .zip(signers)
            .map(|(spec, (unlocked, _))| (spec, &unlocked.key))
            .collect();
        let mut signed = sign::sign_in_turn(pdf, &keys, &self.limits)?;
        let final_step = signed
            .last_mut()
            .ok_or_else(|| Error::internal("no signature made"))?;
        let output = self.extended(std::mem::take(&mut final_step.pdf), last.level)?;
        let lines = signed
            .iter()
            .zip(signers)
            .map(|(step, (unlocked, options))| {
                let signer = &unlocked.signer;
                // Extending wrote more after the signature: only then is the output's hash new.
                let output_sha256 = if options.level.extends() {
                    hex::encode(sha256(&output)?)
                } else {
                    hex::encode(step.sha256)
                };
                tracing::info!(signer = %signer.id, level = options.level.as_str(), "signed");
                // Counted once made: a document whose storing then fails still cost them.
                self.metrics.signature(options.level.as_str(), &signer.kind);
                Ok(SigningLogEntry {
                    id: crate::signing_log::line_id(),
                    signer_id: Some(signer.id.clone()),
                    client_id: client.map(|c| c.id.clone()),
                    commune_code: signer.commune_code.clone(),
                    level: options.level.as_str().into(),
                    input_sha256: hex::encode(step.input_sha256),
                    output_sha256,
                    created_at: db::timestamp(now),
                    certificate_id: None,
                    session_id: None,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((output, lines))
    }

    /// What `signer`'s signature at `time` shows and needs: its reason and location, its
    /// appearance when visible, and the authority that timestamps it for B-T and above.
    fn spec<'o>(
        &'o self,
        conn: &mut DbConnection,
        signer: &Signer,
        options: &SignOptions<'o>,
        time: &DateTime<FixedOffset>,
    ) -> Result<SignatureSpec<'o>> {
        let timestamper = self.timestamper(options.level)?;
        let appearance = match options.visible {
            Some(p) => {
                let commune = options.commune_name(conn, &signer.commune_code)?;
                Some(Appearance {
                    page: p.page,
                    rect: p.rect,
                    lines: appearance_lines(
                        &signer.name,
                        (signer.kind == "official").then_some(signer.title.as_str()),
                        &commune,
                        time,
                    ),
                })
            }
            None => None,
        };
        Ok(SignatureSpec {
            time: *time,
            reason: options.reason,
            location: options.location,
            appearance,
            timestamper,
        })
    }
}

impl Signing<'_> {
    /// Brings a signed PDF to `level` in further updates, earlier revisions untouched: B-LT
    /// adds a DSS with the validation data of every signature; B-LTA then a document
    /// timestamp and a DSS update holding that timestamp's own validation data. B-B and B-T
    /// leave it as it is.
    pub fn extend(&self, pdf: &[u8], level: Level) -> Result<Vec<u8>> {
        let timestamper = self.timestamper(level)?;
        let with_data =
            |pdf: &[u8]| sign::add_validation_data(pdf, self.trust, self.revocation, &self.limits);
        match (level, timestamper) {
            (Level::BLt, _) => Ok(with_data(pdf)?),
            (Level::BLta, Some(tsa)) => {
                let lt = with_data(pdf)?;
                let stamped = sign::timestamp_document(&lt, tsa, &self.limits)?;
                Ok(with_data(&stamped)?)
            }
            _ => Ok(pdf.to_vec()),
        }
    }

    /// `extend` of a PDF kyso has just signed and owns: B-B and B-T give it back as it is
    /// (a 50 MB scan is not copied once more).
    pub fn extended(&self, pdf: Vec<u8>, level: Level) -> Result<Vec<u8>> {
        if level.extends() {
            self.extend(&pdf, level)
        } else {
            Ok(pdf)
        }
    }
}

/// Signer, title (a person's; an agency has none), agency and time, as Decree 30/2020 shows
/// a digital signature.
pub fn appearance_lines(
    name: &str,
    title: Option<&str>,
    commune: &str,
    time: &DateTime<FixedOffset>,
) -> Vec<String> {
    let agency = format!("UBND {}", commune.to_uppercase());
    let mut lines = vec![format!("Ký bởi: {name}")];
    if let Some(title) = title {
        lines.push(title.to_owned());
        lines.push(format!("Cơ quan: {agency}"));
    }
    lines.push(format!(
        "Thời gian ký: {}",
        vietnam::date_time(time.to_utc())
    ));
    lines
}
