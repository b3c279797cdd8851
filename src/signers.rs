//! The signers registry: officials and agencies (người ký, cơ quan), their certificates and key
//! references, and the PIN lockout that protects each key.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Condvar, Mutex, MutexGuard};

use chrono::{DateTime, Duration, Utc};
use diesel::dsl::case_when;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Nullable, Text};
use openssl::x509::X509;

use crate::config::DemoData;
use crate::db::models::{Commune, Signer};
use crate::db::schema::{communes, signers};
use crate::db::{self, DbConnection, Pool};
use crate::error::{Error, Result};
use crate::pki::dev::{Manifest, SignerKind};
use crate::pki::keystore::Pkcs12Files;
use crate::pki::trust::TrustStore;

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Signer> {
    db::native!(conn, |c| signers::table
        .find(id)
        .select(Signer::as_select())
        .first(c)
        .optional())?
    .ok_or_else(|| Error::UnknownSigner(id.to_owned()))
}

/// Signer `id`, unless it is of another commune than `commune` (answered as unknown, so ids
/// do not leak) or its key is locked.
pub fn find_unlocked(conn: &mut DbConnection, id: &str, commune: Option<&str>) -> Result<Signer> {
    let signer = find(conn, id)?;
    signer.ensure_unlocked(commune)?;
    Ok(signer)
}

/// A signer's commune, as the roll-out registry holds it.
pub use crate::rollout::communes::get as commune;

fn parse_time(text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::internal(format!("stored time `{text}`: {e}")))
}

fn asn1_to_utc(time: &openssl::asn1::Asn1TimeRef) -> Result<DateTime<Utc>> {
    crate::pki::revocation::to_utc(time)
        .ok_or_else(|| Error::internal("certificate time out of range"))
}

impl Signer {
    /// `find_unlocked`'s checks of a row already read.
    pub fn ensure_unlocked(&self, commune: Option<&str>) -> Result<()> {
        if commune.is_some_and(|code| code != self.commune_code) {
            return Err(Error::UnknownSigner(self.id.clone()));
        }
        if let Some(until) = self.locked_until(Utc::now())? {
            return Err(Error::KeyLocked {
                until: crate::vietnam::date_time(until),
            });
        }
        Ok(())
    }

    pub fn certificate(&self) -> Result<crate::pki::Certificate> {
        crate::pki::Certificate::from_pem(self.certificate_pem.as_bytes()).ok_or_else(|| {
            Error::internal(format!("signer {}: stored certificate is not PEM", self.id))
        })
    }

    /// Refuses a certificate outside its validity period at `now`.
    pub fn check_validity(&self, now: DateTime<Utc>) -> Result<()> {
        let (from, until) = (parse_time(&self.not_before)?, parse_time(&self.not_after)?);
        if now > until {
            return Err(Error::CertificateNotValid(format!(
                "it expired on {}",
                self.not_after
            )));
        }
        if now < from {
            return Err(Error::CertificateNotValid(format!(
                "it is valid only from {}",
                self.not_before
            )));
        }
        Ok(())
    }

    pub fn locked_until(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
        Ok(self
            .locked_until
            .as_deref()
            .map(parse_time)
            .transpose()?
            .filter(|until| *until > now))
    }
}

/// How long a claim waits for attempts held by requests in flight.
const CLAIM_WAIT: std::time::Duration = std::time::Duration::from_secs(10);
/// How often a waiting claim looks again for attempts given back by another instance (those of
/// this one wake it at once, see [`ClaimReleases`]).
const CLAIM_POLL: std::time::Duration = std::time::Duration::from_millis(20);

/// PIN attempts on one key. Each is claimed in the database before the PIN is tried, so no more
/// than `max` PINs are ever being tried or found wrong at once and concurrent guesses cannot
/// overtake the count. Only PINs found wrong count towards the lock: `max` of them within
/// `lock` of the first lock the key for `lock`, whatever right PINs are in flight meanwhile.
/// A right PIN gives back its own claim and never forgives the wrong ones before it.
///
/// On PostgreSQL claims are taken and given back on `claims` (`db::relaxed`), whose commits
/// need not reach the disk before the answer: a crash ends the requests holding them, and a
/// durable commit there would hold the signer's row lock for an fsync, serialising every
/// signature of the key behind the disk. A wrong PIN is counted durably, on the caller's
/// connection, before it is answered.
pub struct PinAttempts<'a> {
    pub max: i32,
    pub lock: Duration,
    pub claims: Option<&'a Pool>,
    pub releases: &'a ClaimReleases,
}

enum ClaimConnection<'c> {
    Pooled(db::PooledConnection),
    Caller(&'c mut DbConnection),
}

impl ClaimConnection<'_> {
    fn as_mut(&mut self) -> &mut DbConnection {
        match self {
            ClaimConnection::Pooled(pooled) => pooled,
            ClaimConnection::Caller(conn) => conn,
        }
    }
}

/// What one wrong PIN did.
pub struct WrongAttempt {
    /// This attempt locked the key.
    pub locked: bool,
    /// Wrong PINs still allowed before the lock.
    pub attempts_left: u32,
}

impl PinAttempts<'_> {
    /// Claims one attempt on signer `id` and answers its row, in one statement when an attempt
    /// is free. `commune`: the signer must be of this commune (a portal's), else it is answered
    /// as unknown. `KeyLocked` when the key is locked; while every attempt of the window is
    /// held by requests still trying their PIN (concurrent signing with the right PIN), waits
    /// for one to be given back, and answers `Busy` after a while.
    pub fn claim(
        &self,
        conn: &mut DbConnection,
        id: &str,
        commune: Option<&str>,
    ) -> Result<Signer> {
        let deadline = std::time::Instant::now() + CLAIM_WAIT;
        loop {
            let seen = self.releases.seen(id);
            if let Some(signer) = self.try_claim(conn, id, commune)? {
                return Ok(signer);
            }
            // Why not: unknown, locked, or every attempt held.
            find_unlocked(conn, id, commune)?;
            let now = std::time::Instant::now();
            if now >= deadline {
                return Err(Error::Busy { retry_after: 1 });
            }
            self.releases.wait(id, seen, CLAIM_POLL.min(deadline - now));
        }
    }

    /// One claim: the signer's row when taken, `None` when the signer is unknown (or of
    /// another commune), locked, or every attempt is held.
    fn try_claim(
        &self,
        conn: &mut DbConnection,
        id: &str,
        commune: Option<&str>,
    ) -> Result<Option<Signer>> {
        let now = Utc::now();
        let now_text = db::timestamp(now);
        let unlocked = || {
            signers::locked_until
                .is_null()
                .or(signers::locked_until.le(now_text.clone()))
        };
        // One conditional UPDATE, atomic on SQLite and PostgreSQL alike. A window that began
        // more than `lock` ago is over: its wrong PINs are forgotten (the claims of PINs still
        // in flight stay held), and this claim opens a new one.
        let over = || signers::pin_window_start.le(db::timestamp(now - self.lock));
        let held = || {
            case_when::<_, _, Integer>(over(), signers::pin_claims - signers::wrong_pins)
                .otherwise(signers::pin_claims)
        };
        let of_commune = signers::commune_code
            .eq(commune.unwrap_or_default().to_owned())
            .or(commune.is_none().into_sql::<Bool>());
        Ok(diesel::update(
            signers::table
                .find(id)
                .filter(held().lt(self.max))
                .filter(unlocked())
                .filter(of_commune),
        )
        .set((
            signers::pin_claims.eq(held() + 1),
            signers::wrong_pins
                .eq(case_when::<_, _, Integer>(over(), 0).otherwise(signers::wrong_pins)),
            signers::pin_window_start.eq(case_when::<_, _, Nullable<Text>>(
                over().or(signers::pin_window_start.is_null().nullable()),
                Some(now_text.clone()),
            )
            .otherwise(signers::pin_window_start)),
            signers::locked_until.eq(None::<String>),
        ))
        // All columns in the struct's order (a `Selectable` is not a fragment of each backend
        // behind the multi-connection's RETURNING).
        .returning(signers::all_columns)
        .get_result::<Signer>(self.claims_on(conn)?.as_mut())
        .optional()?)
    }

    /// Where claims are written: the `claims` pool when there is one, else `conn`.
    fn claims_on<'c>(&self, conn: &'c mut DbConnection) -> Result<ClaimConnection<'c>> {
        Ok(match self.claims {
            Some(pool) => ClaimConnection::Pooled(db::get(pool)?),
            None => ClaimConnection::Caller(conn),
        })
    }

    /// The claimed attempt was a wrong PIN: its claim stays held, it is counted as wrong, and
    /// the `max`-th wrong one locks the key. Logged with the client that tried (never the
    /// PIN). Says whether this attempt locked the key, and how many wrong PINs are still
    /// allowed before the lock.
    pub fn wrong(
        &self,
        conn: &mut DbConnection,
        id: &str,
        client: Option<&str>,
    ) -> Result<WrongAttempt> {
        let now = Utc::now();
        tracing::warn!(signer = id, client = client.unwrap_or("local"), "wrong PIN");
        diesel::update(signers::table.find(id))
            .set(signers::wrong_pins.eq(signers::wrong_pins + 1))
            .execute(conn)?;
        let locked = diesel::update(
            signers::table
                .find(id)
                .filter(signers::wrong_pins.ge(self.max))
                .filter(
                    signers::locked_until
                        .is_null()
                        .or(signers::locked_until.le(db::timestamp(now))),
                ),
        )
        .set(signers::locked_until.eq(Some(db::timestamp(now + self.lock))))
        .execute(conn)?;
        if locked == 1 {
            tracing::warn!(signer = id, "key locked after repeated wrong PINs");
        }
        let wrong: i32 = signers::table
            .find(id)
            .select(signers::wrong_pins)
            .first(conn)?;
        // Claims waiting here may now find the key locked.
        self.releases.changed(id);
        Ok(WrongAttempt {
            locked: locked == 1,
            attempts_left: u32::try_from(self.max - wrong).unwrap_or(0),
        })
    }

    /// The claimed attempt ended without a wrong PIN (the right one, or a refusal before the
    /// PIN was tried): only its claim is given back, and this instance's waiting claims on
    /// the signer wake.
    pub fn give_back(&self, conn: &mut DbConnection, id: &str) -> Result<()> {
        diesel::update(signers::table.find(id).filter(signers::pin_claims.gt(0)))
            .set(signers::pin_claims.eq(signers::pin_claims - 1))
            .execute(self.claims_on(conn)?.as_mut())?;
        self.releases.changed(id);
        Ok(())
    }
}

/// Wakes this instance's claims waiting for an attempt on a signer as soon as one is given
/// back here (or the key locked), rather than at their next poll; what another instance does
/// is seen by polling (`CLAIM_POLL`).
#[derive(Default)]
pub struct ClaimReleases {
    /// Changes so far, per signer.
    changes: Mutex<HashMap<String, u64>>,
    changed: Condvar,
}

impl ClaimReleases {
    fn counts(&self) -> MutexGuard<'_, HashMap<String, u64>> {
        // Counters only: a panic elsewhere leaves them usable.
        self.changes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn seen(&self, id: &str) -> u64 {
        self.counts().get(id).copied().unwrap_or(0)
    }

    fn changed(&self, id: &str) {
        let mut counts = self.counts();
        match counts.get_mut(id) {
            Some(count) => *count += 1,
            None => {
                counts.insert(id.to_owned(), 1);
            }
        }
        drop(counts);
        self.changed.notify_all();
    }

    /// Until `id` changes after `seen`, or `timeout`.
    fn wait(&self, id: &str, seen: u64, timeout: std::time::Duration) {
        let counts = self.counts();
        let _ = self.changed.wait_timeout_while(counts, timeout, |counts| {
            counts.get(id).copied().unwrap_or(0) == seen
        });
    }
}

/// A signer to register: who, and where its certificate and key are.
pub struct NewSigner<'a> {
    pub id: &'a str,
    pub kind: SignerKind,
    pub commune: &'a str,
    pub name: &'a str,
    pub title: &'a str,
    pub certificate_pem: &'a [u8],
    pub key_ref: String,
}

/// Registers a signer, or replaces the certificate, key and names of one with the same id.
pub fn upsert(conn: &mut DbConnection, new: &NewSigner<'_>, dev: bool) -> Result<()> {
    let cert = X509::from_pem(new.certificate_pem)
        .map_err(|_| Error::CertificateMalformed("not a PEM certificate".into()))?;
    let row = Signer {
        id: new.id.to_owned(),
        kind: match new.kind {
            SignerKind::Official => "official",
            SignerKind::Agency => "agency",
        }
        .into(),
        commune_code: new.commune.to_owned(),
        name: new.name.to_owned(),
        title: new.title.to_owned(),
        certificate_pem: String::from_utf8_lossy(new.certificate_pem).into_owned(),
        cert_serial: cert
            .serial_number()
            .to_bn()
            .and_then(|bn| bn.to_hex_str().map(|h| h.to_string()))
            .map_err(Error::internal)?,
        not_before: db::timestamp(asn1_to_utc(cert.not_before())?),
        not_after: db::timestamp(asn1_to_utc(cert.not_after())?),
        key_ref: new.key_ref.clone(),
        dev,
        pin_claims: 0,
        locked_until: None,
        created_at: db::now(),
        pin_window_start: None,
        wrong_pins: 0,
    };
    let updated = diesel::update(signers::table.find(&row.id))
        .set((
            signers::certificate_pem.eq(&row.certificate_pem),
            signers::cert_serial.eq(&row.cert_serial),
            signers::not_before.eq(&row.not_before),
            signers::not_after.eq(&row.not_after),
            signers::key_ref.eq(&row.key_ref),
            signers::name.eq(&row.name),
            signers::title.eq(&row.title),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(signers::table)
            .values(&row)
            .execute(conn)?;
    }
    Ok(())
}

/// Inserts or refreshes the dev PKI's demo communes and signers (dev mode only), and tracks
/// them in the roll-out registry.
pub fn register_dev_pki(
    conn: &mut DbConnection,
    dir: &Path,
    manifest: &Manifest,
    trust: &TrustStore,
) -> Result<()> {
    conn.transaction(|conn| {
        for c in &manifest.communes {
            let exists = communes::table
                .find(&c.code)
                .count()
                .get_result::<i64>(conn)?
                > 0;
            if !exists {
                diesel::insert_into(communes::table)
                    .values(&Commune {
                        code: c.code.clone(),
                        name: c.name.clone(),
                        kind: c.kind.clone(),
                        province: c.province.clone(),
                        demo: c.demo,
                        created_at: db::now(),
                    })
                    .execute(conn)?;
            }
        }
        for s in &manifest.signers {
            let pem = std::fs::read(manifest.path(dir, &s.certificate)).map_err(|e| {
                Error::config(format!("dev certificate {}: {e}", s.certificate.display()))
            })?;
            let new = NewSigner {
                id: &s.id,
                kind: s.kind,
                commune: &s.commune,
                name: &s.name,
                title: &s.title,
                certificate_pem: &pem,
                key_ref: Pkcs12Files::key_ref(&manifest.path(dir, &s.pkcs12)),
            };
            // A regenerated dev PKI replaces the old certificates and keys.
            upsert(conn, &new, true)?;
        }
        crate::rollout::demo::register(conn, dir, manifest, trust)
    })
}

/// Loads the demo data set `set` (dev mode only: its certificates come from the dev CA). Here,
/// above the registry: `minimal` registers the dev PKI's signers first.
pub fn load_demo(
    conn: &mut DbConnection,
    set: DemoData,
    dir: &Path,
    manifest: &Manifest,
    trust: &TrustStore,
) -> Result<()> {
    match set {
        DemoData::None => {}
        DemoData::Minimal => register_dev_pki(conn, dir, manifest, trust)?,
        DemoData::Haiphong => {
            let loaded = crate::rollout::demo::haiphong::load(
                conn,
                dir,
                manifest,
                trust,
                chrono::Utc::now(),
            )?;
            tracing::info!(
                communes = loaded.communes,
                officials = loaded.officials,
                certificates = loaded.certificates,
                requests = loaded.requests,
                already_loaded = loaded.already_loaded,
                "Hải Phòng demo data"
            );
        }
    }
    Ok(())
}

/// Number of signers registered from a dev PKI; production refuses to start with any.
pub fn count_dev(conn: &mut DbConnection) -> Result<i64> {
    Ok(signers::table
        .filter(signers::dev.eq(true))
        .count()
        .get_result(conn)?)
}
