//! The roll-out registry's closed vocabularies (positions, kinds of official and request, forms,
//! request states): stored as text, shown by their Vietnamese labels. Below `config`, whose
//! settings name positions, and `rollout`, which re-exports them.

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
                    other => Err(Error::bad_request(format!(
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
