//! Validation in the past (ETSI EN 319 102-1 §5.6.2): the timestamps of a file prove that
//! what they cover existed at their time (a proof of existence, POE). A certificate that has
//! expired, or was revoked, since then is judged at that time instead of the validation time,
//! with the revocation data the file (or the operator) holds.
//!
//! Document timestamps are validated newest first: the newest at the validation time, each
//! earlier one at the time the next proves it existed (a B-LTA chain of archive timestamps).

use chrono::{DateTime, Utc};

use super::report::{Proof, ValidatedAt};
use crate::pki::revocation::{to_utc, Statement};
use crate::pki::Certificate;

/// Where a proof of existence comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    SignatureTimestamp,
    DocumentTimestamp,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::SignatureTimestamp => "signature_timestamp",
            Source::DocumentTimestamp => "document_timestamp",
        }
    }
}

/// A proof that an object existed at `time`.
#[derive(Debug, Clone)]
pub struct Poe {
    pub time: DateTime<Utc>,
    pub source: Source,
    /// The document timestamp's field; `None` for a signature timestamp.
    pub field: Option<String>,
}

impl Poe {
    /// The earlier of two proofs.
    pub fn earliest(a: Option<Poe>, b: Option<Poe>) -> Option<Poe> {
        match (a, b) {
            (Some(a), Some(b)) => Some(if b.time < a.time { b } else { a }),
            (a, b) => a.or(b),
        }
    }

    pub fn to_proof(&self) -> Proof {
        Proof {
            time: self.time.to_rfc3339(),
            source: self.source.as_str(),
            field: self.field.clone(),
        }
    }
}

/// The document timestamps found valid so far, each with the revision it closes.
#[derive(Default)]
pub struct Proofs {
    stamps: Vec<(usize, Poe)>,
}

impl Proofs {
    pub fn add(&mut self, revision: usize, time: DateTime<Utc>, field: &str) {
        self.stamps.push((
            revision,
            Poe {
                time,
                source: Source::DocumentTimestamp,
                field: Some(field.to_owned()),
            },
        ));
    }

    /// The earliest valid document timestamp over revision `revision` (1-based): one that
    /// closes a later revision covers every byte of it.
    pub fn covering(&self, revision: Option<usize>) -> Option<Poe> {
        let revision = revision?;
        self.stamps
            .iter()
            .filter(|(r, _)| *r > revision)
            .map(|(_, poe)| poe)
            .min_by_key(|poe| poe.time)
            .cloned()
    }
}

/// At which time a certificate was judged, and why.
pub fn validated_at(at: DateTime<Utc>, poe: Option<&Poe>, past: bool) -> ValidatedAt {
    match (past, poe) {
        (true, Some(poe)) => ValidatedAt {
            time: poe.time.to_rfc3339(),
            basis: "proof_of_existence",
            proof: Some(poe.to_proof()),
        },
        _ => ValidatedAt {
            time: at.to_rfc3339(),
            basis: "validation_time",
            proof: poe.map(Poe::to_proof),
        },
    }
}

/// What the revocation data says about a certificate at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// A list that speaks for that time does not name it.
    Good,
    /// Revoked at this time (the earliest any list gives).
    Revoked(DateTime<Utc>),
    /// No list speaks for that time.
    Unknown,
}

/// The status of `cert` at `time` from what its issuer's CRLs and OCSP answers state. A
/// statement speaks for a time up to its nextUpdate (a later one, for any earlier time); an
/// expired certificate may be dropped from lists issued after its expiry (RFC 5280 §3.3) and
/// responders need not answer for it, so statements made after it prove nothing good.
pub fn status(cert: &Certificate, statements: &[Statement], time: DateTime<Utc>) -> Status {
    let expiry = to_utc(cert.x509().not_after());
    let mut status = Status::Unknown;
    for statement in statements {
        if let Some(at) = statement.revoked {
            status = match status {
                Status::Revoked(earlier) if earlier <= at => status,
                _ => Status::Revoked(at),
            };
            continue;
        }
        let current = statement.next_update.is_none_or(|next| next >= time);
        let before_expiry = matches!((statement.this_update, expiry), (Some(t), Some(e)) if t <= e);
        if current && before_expiry && status == Status::Unknown {
            status = Status::Good;
        }
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::dev::{self, KeyAlgorithm, Profile, SubjectSpec};
    use chrono::Duration;
    use openssl::x509::X509Crl;

    #[test]
    fn lists_speak_for_their_time_and_revocation_wins() {
        let now = Utc::now();
        let ca = dev::new_root("poe test CA", KeyAlgorithm::EcdsaP256).unwrap();
        let leaf = dev::issue(
            &ca,
            &SubjectSpec {
                common_name: "leaf",
                ..Default::default()
            },
            Profile::Signer,
            KeyAlgorithm::EcdsaP256,
            now - Duration::days(1),
            now + Duration::days(30),
        )
        .unwrap();
        let crl = |revoked: &[(&openssl::x509::X509, DateTime<Utc>)], this: DateTime<Utc>| {
            X509Crl::from_der(
                &dev::build_crl(&ca, revoked, this, this + Duration::days(7)).unwrap(),
            )
            .unwrap()
        };
        let fresh = crl(&[], now);
        let cert = Certificate::from_x509(leaf.cert.clone()).unwrap();
        let judge = |crls: &[&X509Crl], at| {
            let statements: Vec<_> = crls
                .iter()
                .map(|crl| Statement::from_crl(crl, &cert))
                .collect();
            status(&cert, &statements, at)
        };
        assert_eq!(judge(&[&fresh], now), Status::Good);
        // A list whose nextUpdate passed says nothing about a later time.
        assert_eq!(judge(&[&fresh], now + Duration::days(8)), Status::Unknown);
        // Issued after the certificate expired: its silence proves nothing.
        let late = crl(&[], now + Duration::days(31));
        assert_eq!(judge(&[&late], now + Duration::days(32)), Status::Unknown);
        let revoked_at = now + Duration::hours(1);
        let revoking = crl(&[(&leaf.cert, revoked_at)], now + Duration::hours(2));
        let judged = judge(&[&fresh, &revoking], now);
        // Times in a CRL have whole seconds.
        let revoked_at = DateTime::from_timestamp(revoked_at.timestamp(), 0).unwrap();
        assert_eq!(judged, Status::Revoked(revoked_at));
        assert!(judge(&[], now) == Status::Unknown);
    }

    #[test]
    fn the_earliest_covering_document_timestamp_is_the_proof() {
        let t = Utc::now();
        let mut proofs = Proofs::default();
        proofs.add(5, t, "late");
        proofs.add(3, t - chrono::Duration::days(1), "early");
        assert_eq!(
            proofs.covering(Some(2)).unwrap().field.as_deref(),
            Some("early")
        );
        assert_eq!(
            proofs.covering(Some(3)).unwrap().field.as_deref(),
            Some("late")
        );
        assert!(proofs.covering(Some(5)).is_none());
        assert!(proofs.covering(None).is_none());
    }
}
