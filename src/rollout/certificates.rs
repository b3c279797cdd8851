//! Registered certificates: parsed from an upload (PEM or DER) with x509-parser, matched to
//! their holder by the subject's `UID=CCCD:<personal id>` / `UID=MST:<tax code>` (or an
//! explicit holder), closing the holder's open request as `issued`. Signing consults this
//! registry through `check_signer`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use x509_parser::oid_registry::OID_USERID;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::{
    audit, ensure_may_write, ensure_not_viewer, ensure_visible, officials, requests, RequestKind,
    RequestState,
};
use crate::clients::{Client, Role};
use crate::db::models::{Certificate, IssuanceRequest, Official, Signer};
use crate::db::schema::{certificates, issuance_requests};
use crate::db::{self, DbConnection};
use crate::error::{Error, Result};
use crate::pki::cms::sha256;
use crate::pki::trust::TrustStore;

/// What kyso reads from a certificate.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub serial: String,
    pub issuer: String,
    pub subject: String,
    pub uids: Vec<String>,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub key_usage: String,
    pub fingerprint: String,
    pub pem: String,
}

impl Parsed {
    /// (personal id, tax code) from `UID=CCCD:…` / `UID=MST:…`.
    pub fn identifiers(&self) -> (Option<&str>, Option<&str>) {
        let find = |prefix| self.uids.iter().find_map(|u| u.strip_prefix(prefix));
        (find("CCCD:"), find("MST:"))
    }
}

/// Parses one X.509 certificate, PEM or DER; anything else or trailing bytes are refused.
pub fn parse(bytes: &[u8]) -> Result<Parsed> {
    let bad = |e: &dyn std::fmt::Display| Error::CertificateMalformed(e.to_string());
    let der = if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        let (_, pem) = x509_parser::pem::parse_x509_pem(bytes).map_err(|e| bad(&e))?;
        if pem.label != "CERTIFICATE" {
            return Err(bad(&format!("a PEM `{}`, not a CERTIFICATE", pem.label)));
        }
        pem.contents
    } else {
        bytes.to_vec()
    };
    let (rest, cert) = X509Certificate::from_der(&der).map_err(|e| bad(&e))?;
    if !rest.is_empty() {
        return Err(bad(&"trailing bytes after the certificate"));
    }
    let time = |t: x509_parser::time::ASN1Time| {
        DateTime::from_timestamp(t.timestamp(), 0).ok_or_else(|| bad(&"validity out of range"))
    };
    let uids = cert
        .subject()
        .iter_by_oid(&OID_USERID)
        .map(|attr| attr.as_str().map(str::to_owned).map_err(|e| bad(&e)))
        .collect::<Result<Vec<_>>>()?;
    let key_usage = cert
        .key_usage()
        .map_err(|e| bad(&e))?
        .map(|ku| ku.value.to_string())
        .unwrap_or_default();
    let pem = openssl::x509::X509::from_der(&der)
        .and_then(|x| x.to_pem())
        .map_err(|e| bad(&e))?;
    Ok(Parsed {
        serial: cert.serial.to_str_radix(16),
        issuer: cert.issuer().to_string(),
        subject: cert.subject().to_string(),
        uids,
        not_before: time(cert.validity().not_before)?,
        not_after: time(cert.validity().not_after)?,
        key_usage,
        fingerprint: hex::encode(sha256(&der)?),
        pem: String::from_utf8(pem).map_err(|e| bad(&e))?,
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Registered {
    pub certificate: Certificate,
    pub holder: Official,
    /// The open request this certificate answered, now `issued`.
    pub request: Option<IssuanceRequest>,
}

/// Registers an uploaded certificate for `client`; `holder` overrides matching by identifier.
/// It counts for readiness only if it chains to one of `trust`'s anchors and names its holder;
/// only an admin's upload closes the holder's open request (that is the CA's side).
pub fn upload(
    conn: &mut DbConnection,
    client: &Client,
    bytes: &[u8],
    holder: Option<&str>,
    trust: &TrustStore,
) -> Result<Registered> {
    ensure_not_viewer(client)?;
    let parsed = parse(bytes)?;
    conn.transaction(|conn| {
        let holder = match_holder(conn, client, &parsed, holder)?;
        ensure_may_write(client, &holder.commune_code)?;
        let trusted = is_trusted(&parsed, &holder, trust);
        register(
            conn,
            &client.id,
            parsed,
            holder,
            trusted,
            client.role == Role::Admin,
        )
    })
}

/// Chains to a trust anchor (at a moment of its own validity, so an expired certificate can
/// still be recorded as genuine) and its `UID=CCCD:` / `UID=MST:` is the holder's.
pub fn is_trusted(parsed: &Parsed, holder: &Official, trust: &TrustStore) -> bool {
    let (personal_id, tax_code) = parsed.identifiers();
    let names_holder = personal_id.is_some_and(|p| holder.personal_id.as_deref() == Some(p))
        || tax_code.is_some_and(|t| holder.tax_code.as_deref() == Some(t));
    let at = Utc::now().clamp(parsed.not_before, parsed.not_after);
    names_holder
        && crate::pki::Certificate::from_pem(parsed.pem.as_bytes())
            .is_some_and(|cert| trust.chain(&cert, &[], at).is_ok())
}

/// Judges again the certificates not yet trusted (registered before this rule, or before their
/// CA was added to the trust folder); returns how many now count. Run at start.
pub fn retrust(conn: &mut DbConnection, trust: &TrustStore) -> Result<usize> {
    use crate::db::schema::officials;
    let pending: Vec<(Certificate, Official)> = certificates::table
        .inner_join(officials::table)
        .filter(certificates::trusted.eq(false))
        .select((Certificate::as_select(), Official::as_select()))
        .load(conn)?;
    let mut trusted = 0;
    for (certificate, holder) in pending {
        let now_trusted = parse(certificate.pem.as_bytes())
            .is_ok_and(|parsed| is_trusted(&parsed, &holder, trust));
        if now_trusted {
            diesel::update(certificates::table.find(&certificate.id))
                .set(certificates::trusted.eq(true))
                .execute(conn)?;
            trusted += 1;
        }
    }
    Ok(trusted)
}

/// The official a certificate belongs to; an explicit holder must agree with the certificate's
/// identifiers when it has any. Officials of communes the client may not write are treated
/// as absent, with the same words, so an upload learns nothing about them.
fn match_holder(
    conn: &mut DbConnection,
    client: &Client,
    parsed: &Parsed,
    explicit: Option<&str>,
) -> Result<Official> {
    let (personal_id, tax_code) = parsed.identifiers();
    let named = officials::find_by_identifier(conn, personal_id, tax_code)?
        .filter(|o| client.may_act_for(&o.commune_code));
    match (explicit, named) {
        (Some(id), named) => {
            let holder = officials::get(conn, id)
                .ok()
                .filter(|o| client.may_act_for(&o.commune_code))
                .ok_or_else(|| Error::NotFound(format!("official `{id}`")))?;
            let disagrees = personal_id.is_some_and(|p| holder.personal_id.as_deref() != Some(p))
                || tax_code.is_some_and(|t| holder.tax_code.as_deref() != Some(t));
            if disagrees {
                return Err(Error::CertificateHolderUnknown(format!(
                    "the certificate names {} but official `{id}` is someone else{}",
                    parsed.uids.join(", "),
                    named
                        .map(|o| format!(" (it matches `{}`)", o.id))
                        .unwrap_or_default()
                )));
            }
            Ok(holder)
        }
        (None, Some(holder)) => Ok(holder),
        (None, None) => Err(Error::CertificateHolderUnknown(if parsed.uids.is_empty() {
            "it carries no UID=CCCD:… or UID=MST:…; name the holder explicitly".into()
        } else {
            format!("no official has {}", parsed.uids.join(", "))
        })),
    }
}

/// Inserts the certificate for `holder`, links a renewal to the certificate it replaces, and
/// (when `closes`) marks the holder's open request issued. Runs inside the caller's
/// transaction.
pub fn register(
    conn: &mut DbConnection,
    actor: &str,
    parsed: Parsed,
    holder: Official,
    trusted: bool,
    closes: bool,
) -> Result<Registered> {
    if let Some(existing) = by_fingerprint(conn, &parsed.fingerprint)? {
        return Err(Error::Conflict(format!(
            "this certificate is already registered as `{}`",
            existing.id
        )));
    }
    let request = open_request(conn, &holder.id)?;
    let replaces = match request
        .as_ref()
        .map(|r| RequestKind::parse(&r.kind))
        .transpose()?
    {
        Some(RequestKind::Renewal | RequestKind::ChangeInfo | RequestKind::RestoreDevice) => {
            certificates::table
                .filter(certificates::official_id.eq(&holder.id))
                .order(certificates::not_after.desc())
                .select(certificates::id)
                .first::<String>(conn)
                .optional()?
        }
        _ => None,
    };
    let certificate = Certificate {
        id: super::new_id(),
        official_id: holder.id.clone(),
        serial: parsed.serial,
        issuer: parsed.issuer,
        subject: parsed.subject,
        uids: parsed.uids.join("\n"),
        not_before: db::timestamp(parsed.not_before),
        not_after: db::timestamp(parsed.not_after),
        key_usage: parsed.key_usage,
        fingerprint: parsed.fingerprint,
        pem: parsed.pem,
        revoked_at: None,
        revocation_reason: None,
        replaces_certificate_id: replaces,
        created_at: db::now(),
        trusted,
    };
    diesel::insert_into(certificates::table)
        .values(&certificate)
        .execute(conn)
        .map_err(super::unique_or("this certificate"))?;
    audit::record(
        conn,
        actor,
        "certificate.create",
        &certificate.id,
        None,
        Some(&certificate),
    )?;
    let request = match request.filter(|_| closes) {
        Some(request) => {
            let note = format!("chứng thư số {} đã được tải lên", certificate.serial);
            let mut request = request;
            if request.state == RequestState::Submitted.as_str() {
                request =
                    requests::apply(conn, actor, request, RequestState::Received, &note, None)?;
            }
            Some(requests::apply(
                conn,
                actor,
                request,
                RequestState::Issued,
                &note,
                Some(&certificate.id),
            )?)
        }
        None => None,
    };
    Ok(Registered {
        certificate,
        holder,
        request,
    })
}

/// The holder's oldest request the CA holds that a new certificate answers (not a revocation).
fn open_request(conn: &mut DbConnection, official: &str) -> Result<Option<IssuanceRequest>> {
    Ok(issuance_requests::table
        .filter(issuance_requests::official_id.eq(official))
        .filter(issuance_requests::state.eq_any([
            RequestState::Submitted.as_str(),
            RequestState::Received.as_str(),
        ]))
        .filter(issuance_requests::kind.ne(RequestKind::Revocation.as_str()))
        .order(issuance_requests::created_at)
        .select(IssuanceRequest::as_select())
        .first(conn)
        .optional()?)
}

pub fn by_fingerprint(conn: &mut DbConnection, fingerprint: &str) -> Result<Option<Certificate>> {
    Ok(db::native!(conn, |c| certificates::table
        .filter(certificates::fingerprint.eq(fingerprint))
        .select(Certificate::as_select())
        .first(c)
        .optional())?)
}

pub fn read(conn: &mut DbConnection, client: &Client, id: &str) -> Result<Certificate> {
    let certificate = certificates::table
        .find(id)
        .select(Certificate::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("certificate `{id}`")))?;
    let holder = officials::get(conn, &certificate.official_id)?;
    ensure_visible(client, &holder.commune_code, || {
        format!("certificate `{id}`")
    })?;
    Ok(certificate)
}

/// Certificates of one official, or of every official of one commune.
pub fn list(
    conn: &mut DbConnection,
    commune: Option<&str>,
    official: Option<&str>,
) -> Result<Vec<Certificate>> {
    use crate::db::schema::officials;
    let mut query = certificates::table
        .inner_join(officials::table)
        .select(Certificate::as_select())
        .into_boxed();
    if let Some(code) = commune {
        query = query.filter(officials::commune_code.eq(code.to_owned()));
    }
    if let Some(id) = official {
        query = query.filter(certificates::official_id.eq(id.to_owned()));
    }
    Ok(query
        .order((certificates::official_id, certificates::not_after.desc()))
        .load(conn)?)
}

impl Certificate {
    /// Not revoked by `now` and within its validity at `now`.
    pub fn is_valid_at(&self, now: DateTime<Utc>) -> bool {
        let now = db::timestamp(now);
        let revoked = self.revoked_at.as_ref().is_some_and(|at| *at <= now);
        !revoked && self.not_before <= now && now <= self.not_after
    }
}

/// Marks `old` revoked at `at` for `reason`; returns its id.
pub(super) fn revoke(
    conn: &mut DbConnection,
    actor: &str,
    old: Certificate,
    at: &str,
    reason: &str,
) -> Result<String> {
    let new = Certificate {
        revoked_at: Some(at.to_owned()),
        revocation_reason: Some(reason.to_owned()),
        ..old.clone()
    };
    diesel::update(certificates::table.find(&old.id))
        .set((
            certificates::revoked_at.eq(&new.revoked_at),
            certificates::revocation_reason.eq(&new.revocation_reason),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        actor,
        "certificate.revoke",
        &old.id,
        Some(&old),
        Some(&new),
    )?;
    Ok(old.id)
}

/// A revocation request carried out: every certificate of its holder not yet revoked is.
pub(super) fn revoke_holder(
    conn: &mut DbConnection,
    actor: &str,
    request: &IssuanceRequest,
) -> Result<Vec<String>> {
    let held: Vec<Certificate> = certificates::table
        .filter(certificates::official_id.eq(&request.official_id))
        .filter(certificates::revoked_at.is_null())
        .select(Certificate::as_select())
        .load(conn)?;
    let reason = format!("revocation request {}", request.id);
    held.into_iter()
        .map(|old| revoke(conn, actor, old, &db::now(), &reason))
        .collect()
}

/// The registry's rule for signing: the signer's certificate (`der`, matched by SHA-256
/// fingerprint) must be registered, not revoked and valid at `now`. A certificate nobody
/// registered is refused too: signing is for holders the roll-out registry knows.
pub fn check_signer(
    conn: &mut DbConnection,
    signer: &Signer,
    der: &[u8],
    now: DateTime<Utc>,
) -> Result<()> {
    let fingerprint = hex::encode(sha256(der)?);
    let Some(certificate) = by_fingerprint(conn, &fingerprint)? else {
        return Err(Error::CertificateNotRegistered(format!(
            "register the certificate of signer `{}` (POST /api/v1/certificates) first",
            signer.id
        )));
    };
    if certificate.revoked_at.is_some() {
        return Err(Error::CertificateRevoked);
    }
    if !certificate.is_valid_at(now) {
        return Err(Error::CertificateNotValid(format!(
            "it is valid from {} until {}",
            certificate.not_before, certificate.not_after
        )));
    }
    Ok(())
}
