//! Certificate roll-out tracking (theo dõi cấp chứng thư số): communes, their officials and
//! agency, the certificates they hold, the requests filed with the CA, and how ready each
//! commune is to sign. Every change goes through here and into the audit log.

pub mod audit;
pub mod certificates;
pub mod communes;
pub mod crl;
pub mod demo;
pub mod officials;
pub mod readiness;
pub mod requests;

use chrono::{DateTime, Utc};

use crate::clients::{Client, Role};
use crate::error::{Error, Result};

/// A closed set of words stored as text: the enum, its stored form, parsing and its label.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident ($what:literal) { $($variant:ident = $text:tt / $label:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The Vietnamese name shown to people.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            /// The label of a stored value; anything unknown is shown as stored.
            pub fn label_of(text: &str) -> &str {
                Self::parse(text).map_or(text, |v| v.label())
            }

            pub fn parse(text: &str) -> Result<Self> {
                match text {
                    $($text => Ok($name::$variant),)+
                    other => Err(Error::BadRequest(format!(
                        "{} must be one of {}, not `{other}`",
                        $what,
                        [$($text),+].join(", ")
                    ))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum! {
    /// Where an official sits (chức vụ); which positions need a certificate is a setting.
    Position("position") {
        Chair = "chair" / "Chủ tịch UBND",
        ViceChair = "vice_chair" / "Phó Chủ tịch UBND",
        CivilStatus = "civil_status" / "Công chức Tư pháp - Hộ tịch",
        Agency = "agency" / "Cơ quan (chữ ký số của UBND)",
        Other = "other" / "Khác",
    }
}

text_enum! {
    /// A person, or the commune's agency, whose certificate stands for the red seal.
    OfficialKind("kind") {
        Person = "person" / "Cá nhân",
        Agency = "agency" / "Cơ quan",
    }
}

text_enum! {
    /// What is asked of the CA (Decree 68/2024 Art. 10–11).
    RequestKind("kind") {
        New = "new" / "Cấp mới",
        Renewal = "renewal" / "Gia hạn",
        ChangeInfo = "change_info" / "Thay đổi thông tin",
        Revocation = "revocation" / "Thu hồi",
        RestoreDevice = "restore_device" / "Khôi phục thiết bị lưu khóa",
    }
}

text_enum! {
    /// The written request form: Mẫu 01 for a person, 02 for an agency, 03 for a device.
    Form("form") {
        Mau01 = "01" / "Mẫu 01",
        Mau02 = "02" / "Mẫu 02",
        Mau03 = "03" / "Mẫu 03",
    }
}

text_enum! {
    /// Where a request stands: drafted → submitted → received → issued, or rejected / cancelled.
    RequestState("state") {
        Drafted = "drafted" / "Đang soạn",
        Submitted = "submitted" / "Đã gửi",
        Received = "received" / "CA đã tiếp nhận",
        Issued = "issued" / "Đã cấp",
        Rejected = "rejected" / "Bị từ chối",
        Cancelled = "cancelled" / "Đã hủy",
    }
}

impl RequestState {
    /// The states a request may move to from this one.
    pub fn next(self) -> &'static [RequestState] {
        use RequestState::*;
        match self {
            Drafted => &[Submitted, Cancelled],
            Submitted => &[Received, Rejected, Cancelled],
            Received => &[Issued, Rejected],
            Issued | Rejected | Cancelled => &[],
        }
    }

    /// Not yet issued, rejected or cancelled.
    pub fn is_open(self) -> bool {
        !self.next().is_empty()
    }

    /// The CA has the request (its service time runs).
    pub fn is_with_ca(self) -> bool {
        matches!(self, RequestState::Submitted | RequestState::Received)
    }
}

/// May `client` read `commune`'s officials, certificates and requests (personal data)? Admins
/// all, a portal its own commune; a viewer only the roll-out statistics.
pub fn may_read(client: &Client, commune: &str) -> bool {
    match client.role {
        Role::Admin => true,
        Role::Portal => client.commune.as_deref() == Some(commune),
        Role::Viewer => false,
    }
}

/// Refuses a viewer key: what follows is personal data.
pub fn ensure_not_viewer(client: &Client) -> Result<()> {
    if client.role == Role::Viewer {
        Err(Error::Forbidden(
            "a viewer key reads roll-out statistics only".into(),
        ))
    } else {
        Ok(())
    }
}

/// A record of `commune` for `client`: another commune's is answered exactly like an unknown
/// one (`what` names only what the client asked for), so ids and holders do not leak.
pub fn ensure_visible(client: &Client, commune: &str, what: impl FnOnce() -> String) -> Result<()> {
    ensure_not_viewer(client)?;
    if may_read(client, commune) {
        Ok(())
    } else {
        Err(Error::NotFound(what()))
    }
}

pub fn ensure_may_write(client: &Client, commune: &str) -> Result<()> {
    if client.may_act_for(commune) {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "this key may not change commune `{commune}`"
        )))
    }
}

pub fn ensure_may_read(client: &Client, commune: &str) -> Result<()> {
    ensure_not_viewer(client)?;
    if may_read(client, commune) {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "this key may not read commune `{commune}`"
        )))
    }
}

/// Only the CA's side (an admin) moves a request into `received`, `issued` or `rejected`.
pub fn ensure_may_move(client: &Client, to: RequestState) -> Result<()> {
    match to {
        RequestState::Received | RequestState::Issued | RequestState::Rejected => {
            ensure_admin(client)
        }
        RequestState::Drafted | RequestState::Submitted | RequestState::Cancelled => Ok(()),
    }
}

pub fn ensure_admin(client: &Client) -> Result<()> {
    if client.role == Role::Admin {
        Ok(())
    } else {
        Err(Error::Forbidden("only an admin key may do this".into()))
    }
}

/// A stored RFC 3339 time.
pub fn parse_time(text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::internal(format!("stored time `{text}`: {e}")))
}

/// A unique constraint hit by a concurrent writer is a conflict to retry, not a server fault.
fn unique_or(what: &str) -> impl FnOnce(diesel::result::Error) -> Error + '_ {
    move |e| match e {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => Error::Conflict(format!("{what} was registered meanwhile")),
        other => other.into(),
    }
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
