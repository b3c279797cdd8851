//! Civil-status extracts (trích lục hộ tịch) and the marital-status confirmation: the JSON
//! request checked field by field (every problem reported at once), turned into the lines of
//! the form, then issued through the common workflow.

use chrono::{Datelike, NaiveDate};
use serde_json::Value;
use unicode_normalization::UnicodeNormalization;

use super::{
    authority, place_date, Issuance, IssueRequest, Issuer, Kind, Numbered, OfficialKey, Unsigned,
};
use crate::clients::Client;
use crate::db::DbConnection;
use crate::error::{Error, FieldError, Result};
use crate::pdf::render::canvas::A4;
use crate::pdf::render::sheet::{self, Line, Sheet};
use crate::pdf::render::Info;
use crate::pki::cms::sha256;
use crate::signing::{Level, Placement};
use crate::vietnam::{self, words};

/// A checked extract request: what to issue, and the form's lines.
pub struct Extract {
    pub kind: Kind,
    pub body: Vec<Line>,
}

/// The civil-status register entry an extract is copied from. Printed in the body with its
/// own labels (`Số đăng ký`, `Quyển số`): the `Số:` under the authority is the extract's own
/// number, the one the lookup page shows, so the paper carries one number called `Số`.
struct Register {
    number: String,
    book: String,
    date: Option<NaiveDate>,
    authority: String,
}

const NAME: usize = 100;
const PLACE: usize = 250;
const SHORT: usize = 50;

/// Parses and checks a `POST /api/v1/extracts` body.
pub fn parse(body: &[u8], idempotency_key: Option<String>) -> Result<(IssueRequest, Extract)> {
    let root: Value = serde_json::from_slice(body).map_err(|e| {
        Error::ValidationFailed(vec![FieldError {
            field: "body".into(),
            message: format!("not valid JSON: {e}"),
        }])
    })?;
    if !root.is_object() {
        return Err(Error::ValidationFailed(vec![FieldError {
            field: "body".into(),
            message: "must be a JSON object".into(),
        }]));
    }
    let mut input = Input {
        root: &root,
        errors: Vec::new(),
        today: vietnam::day(chrono::Utc::now()),
    };
    let kind = match input.get("kind") {
        None => {
            input.fail("kind", "is required");
            None
        }
        Some(v) => match v.as_str().and_then(Kind::parse) {
            Some(Kind::CertifiedCopy) | None => {
                input.fail(
                    "kind",
                    "must be one of birth, marriage, death, marital_status",
                );
                None
            }
            kind => kind,
        },
    };
    let commune = input.text("commune", SHORT);
    let signer = input.text("signer", 64);
    let pin = input.secret("pin", false);
    let certificate = input.certificate("certificate");
    let official_key = match (pin, certificate) {
        (Some(pin), None) => Some(OfficialKey::Pin(pin)),
        (None, Some(certificate)) => Some(OfficialKey::Certificate(certificate)),
        _ => {
            input.fail(
                "pin",
                "give either pin (kyso holds the official's key) or certificate (the official signs on their own device)",
            );
            None
        }
    };
    let agency_pin = input.secret("agency_pin", false);
    let level = input.level("level");
    let common = [
        "kind",
        "commune",
        "signer",
        "pin",
        "certificate",
        "agency_pin",
        "level",
    ];

    let body = match kind {
        Some(Kind::MaritalStatus) => {
            input.allow(
                "",
                &[
                    &common[..],
                    &[
                        "requester",
                        "person",
                        "residence_period",
                        "marital_status",
                        "purpose",
                    ],
                ]
                .concat(),
            );
            marital_status(&mut input)
        }
        Some(kind) => {
            let fields: &[&str] = match kind {
                Kind::Birth => &["register", "child", "father", "mother"],
                Kind::Marriage => &["register", "husband", "wife"],
                _ => &["register", "deceased", "death", "death_notice"],
            };
            input.allow("", &[&common[..], fields].concat());
            input.allow("register", &["book", "number", "date", "authority"]);
            let register = Register {
                book: input.text("register.book", SHORT),
                number: input.text("register.number", SHORT),
                date: input.date("register.date"),
                authority: input.text("register.authority", PLACE),
            };
            match kind {
                Kind::Birth => birth(&mut input, &register),
                Kind::Marriage => marriage(&mut input, &register),
                _ => death(&mut input, &register),
            }
        }
        None => Vec::new(),
    };
    if !input.errors.is_empty() {
        return Err(Error::ValidationFailed(input.errors));
    }
    let (Some(kind), Some(official_key)) = (kind, official_key) else {
        return Err(Error::internal("validated request without kind or key"));
    };
    // What was asked, without the PINs: an idempotent retry must ask the same.
    let mut asked = root.clone();
    if let Some(map) = asked.as_object_mut() {
        map.remove("pin");
        map.remove("agency_pin");
    }
    let request_sha256 = hex::encode(sha256(asked.to_string().as_bytes())?);
    Ok((
        IssueRequest {
            kind,
            commune,
            signer,
            official_key,
            agency_pin,
            level,
            idempotency_key,
            request_sha256,
        },
        Extract { kind, body },
    ))
}

fn dmy(date: Option<NaiveDate>) -> String {
    date.map(vietnam::date).unwrap_or_default()
}

fn words_of(date: Option<NaiveDate>) -> String {
    date.map(|d| words::capitalize(&words::date(d)))
        .unwrap_or_default()
}

fn fields(pairs: &[(&str, &str)]) -> Line {
    Line::Fields(
        pairs
            .iter()
            .map(|(l, v)| ((*l).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

fn field(label: &str, value: impl Into<String>) -> Line {
    Line::Field(label.to_owned(), value.into())
}

fn registered(lines: &mut Vec<Line>, label: &str, register: &Register) {
    lines.push(field(label, &register.authority));
    lines.push(field("Ngày, tháng, năm đăng ký", dmy(register.date)));
    lines.push(fields(&[
        ("Số đăng ký", &register.number),
        ("Quyển số", &register.book),
    ]));
}

fn birth(input: &mut Input<'_>, register: &Register) -> Vec<Line> {
    let registered_on = register.date;
    input.allow(
        "child",
        &[
            "full_name",
            "sex",
            "date_of_birth",
            "place_of_birth",
            "home_town",
            "ethnicity",
            "nationality",
            "personal_id",
        ],
    );
    let name = input.text("child.full_name", NAME);
    let sex = input.sex("child.sex");
    let born = input.date("child.date_of_birth");
    if let (Some(born), Some(on)) = (born, registered_on) {
        if born > on {
            input.fail("child.date_of_birth", "must not be after register.date");
        }
    }
    let place = input.text("child.place_of_birth", PLACE);
    let home_town = input.text("child.home_town", PLACE);
    let ethnicity = input.text("child.ethnicity", SHORT);
    let nationality = input.text("child.nationality", SHORT);
    let id = input.personal_id("child.personal_id");
    let mut lines = vec![
        field("Họ, chữ đệm, tên", name),
        field("Ngày, tháng, năm sinh", dmy(born)),
        field("Ghi bằng chữ", words_of(born)),
        fields(&[
            ("Giới tính", &sex),
            ("Dân tộc", &ethnicity),
            ("Quốc tịch", &nationality),
        ]),
        field("Nơi sinh", place),
        field("Quê quán", home_town),
        field("Số định danh cá nhân", id),
    ];
    for (key, label) in [("mother", "người mẹ"), ("father", "người cha")] {
        // A parent may be unknown: the form keeps the section with its fields blank, as the
        // paper form is left blank there; a given parent must be complete.
        if input.get(key).is_none() {
            lines.push(field(&format!("Họ, chữ đệm, tên {label}"), ""));
            lines.push(fields(&[
                ("Năm sinh", ""),
                ("Dân tộc", ""),
                ("Quốc tịch", ""),
            ]));
            lines.push(field("Nơi cư trú", ""));
            continue;
        }
        input.allow(
            key,
            &[
                "full_name",
                "year_of_birth",
                "ethnicity",
                "nationality",
                "residence",
            ],
        );
        let name = input.text(&format!("{key}.full_name"), NAME);
        let year = input.year(&format!("{key}.year_of_birth"));
        let ethnicity = input.text(&format!("{key}.ethnicity"), SHORT);
        let nationality = input.text(&format!("{key}.nationality"), SHORT);
        let residence = input.text(&format!("{key}.residence"), PLACE);
        lines.push(field(&format!("Họ, chữ đệm, tên {label}"), name));
        lines.push(fields(&[
            ("Năm sinh", &year.map(|y| y.to_string()).unwrap_or_default()),
            ("Dân tộc", &ethnicity),
            ("Quốc tịch", &nationality),
        ]));
        lines.push(field("Nơi cư trú", residence));
    }
    registered(&mut lines, "Nơi đăng ký khai sinh", register);
    lines
}

fn marriage(input: &mut Input<'_>, register: &Register) -> Vec<Line> {
    let mut lines = Vec::new();
    for (key, label) in [
        ("husband", "Thông tin người chồng"),
        ("wife", "Thông tin người vợ"),
    ] {
        input.allow(
            key,
            &[
                "full_name",
                "date_of_birth",
                "ethnicity",
                "nationality",
                "residence",
                "identity_document",
            ],
        );
        let name = input.text(&format!("{key}.full_name"), NAME);
        let born = input.date(&format!("{key}.date_of_birth"));
        let ethnicity = input.text(&format!("{key}.ethnicity"), SHORT);
        let nationality = input.text(&format!("{key}.nationality"), SHORT);
        let residence = input.text(&format!("{key}.residence"), PLACE);
        let document = input.text(&format!("{key}.identity_document"), NAME);
        lines.extend([
            Line::Heading(label.to_owned()),
            field("Họ, chữ đệm, tên", name),
            field("Ngày, tháng, năm sinh", dmy(born)),
            fields(&[("Dân tộc", &ethnicity), ("Quốc tịch", &nationality)]),
            field("Nơi cư trú", residence),
            field("Giấy tờ tùy thân", document),
        ]);
    }
    registered(&mut lines, "Nơi đăng ký kết hôn", register);
    lines
}

fn death(input: &mut Input<'_>, register: &Register) -> Vec<Line> {
    let registered_on = register.date;
    input.allow(
        "deceased",
        &[
            "full_name",
            "date_of_birth",
            "sex",
            "ethnicity",
            "nationality",
            "identity_document",
            "last_residence",
        ],
    );
    input.allow("death", &["date", "time", "place", "cause"]);
    input.allow("death_notice", &["number", "issuer", "date"]);
    let name = input.text("deceased.full_name", NAME);
    let born = input.date("deceased.date_of_birth");
    let sex = input.sex("deceased.sex");
    let ethnicity = input.text("deceased.ethnicity", SHORT);
    let nationality = input.text("deceased.nationality", SHORT);
    let document = input.text("deceased.identity_document", NAME);
    let residence = input.text("deceased.last_residence", PLACE);
    let died = input.date("death.date");
    if let (Some(born), Some(died)) = (born, died) {
        if died < born {
            input.fail("death.date", "must not be before deceased.date_of_birth");
        }
    }
    if let (Some(died), Some(on)) = (died, registered_on) {
        if died > on {
            input.fail("death.date", "must not be after register.date");
        }
    }
    let time = input.time_of_day("death.time");
    let place = input.text("death.place", PLACE);
    let cause = input.optional_text("death.cause", PLACE);
    let notice_number = input.text("death_notice.number", SHORT);
    let notice_issuer = input.text("death_notice.issuer", PLACE);
    let notice_date = input.date("death_notice.date");

    // Hour and minute stay blank when unknown, as on the paper form.
    let (at, at_words) = match time {
        Some((h, m)) => (
            format!("{h:02} giờ {m:02} phút, ngày {}", dmy(died)),
            words::capitalize(&format!(
                "{}, {}",
                words::time(h, m),
                died.map(words::date).unwrap_or_default()
            )),
        ),
        None => (
            format!("… giờ … phút, ngày {}", dmy(died)),
            format!(
                "… giờ … phút, {}",
                died.map(words::date).unwrap_or_default()
            ),
        ),
    };
    let mut lines = vec![
        field("Họ, chữ đệm, tên", name),
        field("Ngày, tháng, năm sinh", dmy(born)),
        fields(&[
            ("Giới tính", &sex),
            ("Dân tộc", &ethnicity),
            ("Quốc tịch", &nationality),
        ]),
        field("Giấy tờ tùy thân", document),
        field("Nơi cư trú cuối cùng", residence),
        field("Đã chết vào lúc", at),
        field("Ghi bằng chữ", at_words),
        field("Nơi chết", place),
        field("Nguyên nhân chết", cause.unwrap_or_else(|| "…".into())),
        field(
            "Giấy báo tử",
            format!(
                "số {notice_number}, do {notice_issuer} cấp ngày {}",
                dmy(notice_date)
            ),
        ),
    ];
    registered(&mut lines, "Nơi đăng ký khai tử", register);
    lines
}

fn marital_status(input: &mut Input<'_>) -> Vec<Line> {
    input.allow(
        "person",
        &[
            "full_name",
            "date_of_birth",
            "sex",
            "ethnicity",
            "nationality",
            "identity_document",
            "residence",
        ],
    );
    input.allow("residence_period", &["place", "from", "to"]);
    let requester = input.text("requester", NAME);
    let name = input.text("person.full_name", NAME);
    let born = input.date("person.date_of_birth");
    let sex = input.sex("person.sex");
    let ethnicity = input.text("person.ethnicity", SHORT);
    let nationality = input.text("person.nationality", SHORT);
    let document = input.text("person.identity_document", NAME);
    let residence = input.text("person.residence", PLACE);
    let period_place = input.text("residence_period.place", PLACE);
    let from = input.date("residence_period.from");
    let to = input.date("residence_period.to");
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            input.fail(
                "residence_period.to",
                "must not be before residence_period.from",
            );
        }
    }
    let status = input.text("marital_status", PLACE);
    let purpose = input.text("purpose", PLACE);
    vec![
        Line::Text(format!(
            "Xét đề nghị của ông/bà {requester} về việc xác nhận tình trạng hôn nhân,"
        )),
        Line::Centered("XÁC NHẬN:".into()),
        field("Họ, chữ đệm, tên", name),
        field("Ngày, tháng, năm sinh", dmy(born)),
        fields(&[
            ("Giới tính", &sex),
            ("Dân tộc", &ethnicity),
            ("Quốc tịch", &nationality),
        ]),
        field("Giấy tờ tùy thân", document),
        field("Nơi cư trú", residence),
        Line::Text(format!(
            "Trong thời gian cư trú tại {period_place}, từ ngày {} đến ngày {}",
            dmy(from),
            dmy(to)
        )),
        field("Tình trạng hôn nhân", status),
        Line::Text(format!(
            "Giấy này có giá trị sử dụng trong thời hạn 6 tháng, kể từ ngày cấp, được sử dụng để {purpose}."
        )),
    ]
}

impl Issuer<'_> {
    pub fn issue_extract(
        &self,
        conn: &mut DbConnection,
        client: &Client,
        req: &IssueRequest,
        extract: &Extract,
    ) -> Result<Issuance> {
        let code = match extract.kind {
            Kind::Birth => "TLKS",
            Kind::Marriage => "TLKH",
            Kind::Death => "TLKT",
            _ => "XNTTHN",
        };
        let labels = |n: i32, year: i32| {
            let number = if extract.kind == Kind::MaritalStatus {
                format!("{n}/UBND-{code}")
            } else {
                format!("{n}/{code}")
            };
            (number, format!("{code}-{year}"))
        };
        let render = |n: &Numbered<'_>, _: &()| -> Result<Unsigned> {
            let title = extract.kind.name_vi().to_uppercase();
            let signer_heading = if extract.kind == Kind::MaritalStatus {
                let title = n.official.title.trim_end_matches(" UBND").to_uppercase();
                let mut heading = vec!["TM. ỦY BAN NHÂN DÂN".to_owned()];
                // A deputy signs on the chair's behalf (ký thay).
                if title.starts_with("PHÓ ") {
                    heading.push("KT. CHỦ TỊCH".to_owned());
                }
                heading.push(title);
                heading
            } else {
                vec!["NGƯỜI KÝ TRÍCH LỤC".to_owned(), n.official.title.clone()]
            };
            let sheet = Sheet {
                authority: authority(n.commune),
                references: vec![format!("Số: {}", n.number_label)],
                place_date: place_date(n.commune, &n.time),
                title: title.clone(),
                body: extract.body.clone(),
                signer_heading,
                signer_name: n.official.name.clone(),
                lookup_url: n.lookup_url.clone(),
                lookup_lines: vec![
                    format!("Mã tra cứu: {}", n.lookup_code),
                    format!("Tra cứu: {}", n.lookup_url),
                ],
            };
            let rendered = sheet::render(
                &sheet,
                &Info {
                    title: &format!("{} số {}", extract.kind.name_vi(), n.number_label),
                    author: &authority(n.commune),
                    subject: &title,
                    created: n.time,
                },
            )?;
            let [width, height] = A4;
            Ok(Unsigned {
                pdf: rendered.pdf,
                signature: Placement {
                    page: rendered.signature_page,
                    rect: rendered.signature_rect,
                },
                agency: super::top_right([0.0, 0.0, width, height]),
            })
        };
        self.issue(conn, client, req, || Ok(()), labels, render)
    }
}

/// A request body being checked; every problem is collected, none stops the checking.
struct Input<'a> {
    root: &'a Value,
    errors: Vec<FieldError>,
    today: NaiveDate,
}

impl<'a> Input<'a> {
    /// The value at a dotted path; `null` counts as absent.
    fn get(&self, path: &str) -> Option<&'a Value> {
        path.split('.')
            .try_fold(self.root, |v, key| v.get(key))
            .filter(|v| !v.is_null())
    }

    fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.to_owned(),
            message: message.into(),
        });
    }

    /// Reports keys of the object at `path` ("" for the root) that the form does not have;
    /// a present non-object is reported too.
    fn allow(&mut self, path: &str, keys: &[&str]) {
        let value = if path.is_empty() {
            Some(self.root)
        } else {
            self.get(path)
        };
        match value {
            None => {}
            Some(Value::Object(map)) => {
                let unknown: Vec<String> = map
                    .keys()
                    .filter(|k| !keys.contains(&k.as_str()))
                    .map(|k| {
                        if path.is_empty() {
                            k.clone()
                        } else {
                            format!("{path}.{k}")
                        }
                    })
                    .collect();
                for field in unknown {
                    self.fail(&field, "is not a field of this form");
                }
            }
            Some(_) => self.fail(path, "must be an object"),
        }
    }

    /// Trimmed, inner whitespace collapsed, NFC (one glyph per letter in the PDF font).
    fn optional_text(&mut self, path: &str, max: usize) -> Option<String> {
        match self.get(path) {
            None => None,
            Some(Value::String(s)) => {
                if s.chars().any(char::is_control) {
                    self.fail(path, "must not contain control characters");
                    return None;
                }
                let text: String = s
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .nfc()
                    .collect();
                if text.chars().count() > max {
                    self.fail(path, format!("must be at most {max} characters"));
                    return None;
                }
                (!text.is_empty()).then_some(text)
            }
            Some(_) => {
                self.fail(path, "must be a string");
                None
            }
        }
    }

    fn text(&mut self, path: &str, max: usize) -> String {
        let before = self.errors.len();
        let text = self.optional_text(path, max);
        if text.is_none() && self.errors.len() == before {
            self.fail(path, "is required");
        }
        text.unwrap_or_default()
    }

    /// A PIN: taken as is (never normalised, never echoed).
    fn secret(&mut self, path: &str, required: bool) -> Option<secrecy::SecretString> {
        match self.get(path) {
            Some(Value::String(s)) if !s.is_empty() && s.len() <= 256 => {
                Some(secrecy::SecretString::from(s.clone()))
            }
            None if !required => None,
            None => {
                self.fail(path, "is required");
                None
            }
            Some(_) => {
                self.fail(path, "must be a non-empty string");
                None
            }
        }
    }

    /// A PEM certificate, kept as sent (line breaks matter).
    fn certificate(&mut self, path: &str) -> Option<Vec<u8>> {
        match self.get(path) {
            None => None,
            Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 64 * 1024 => {
                Some(s.clone().into_bytes())
            }
            Some(_) => {
                self.fail(path, "must be a PEM certificate");
                None
            }
        }
    }

    /// `YYYY-MM-DD`, a real calendar date, not in the future.
    /// An optional PAdES level (`B-B` … `B-LTA`).
    fn level(&mut self, path: &str) -> Option<Level> {
        let text = self.optional_text(path, SHORT)?;
        let level = Level::parse(&text).ok();
        if level.is_none() {
            self.fail(path, "must be B-B, B-T, B-LT or B-LTA");
        }
        level
    }

    fn date(&mut self, path: &str) -> Option<NaiveDate> {
        let text = self.text(path, 10);
        if text.is_empty() {
            return None;
        }
        match NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
            Ok(d) if d > self.today => {
                self.fail(path, "must not be in the future");
                None
            }
            Ok(d) if d.year() < 1900 => {
                self.fail(path, "must be in 1900 or later");
                None
            }
            Ok(d) => Some(d),
            Err(_) => {
                self.fail(path, "must be a real date written YYYY-MM-DD");
                None
            }
        }
    }

    fn year(&mut self, path: &str) -> Option<i32> {
        let this_year = i64::from(self.today.year());
        match self.get(path).map(Value::as_i64) {
            None => {
                self.fail(path, "is required");
                None
            }
            Some(Some(y)) if (1900..=this_year).contains(&y) => i32::try_from(y).ok(),
            Some(_) => {
                self.fail(path, format!("must be a year from 1900 to {this_year}"));
                None
            }
        }
    }

    /// Số định danh cá nhân: exactly 12 digits.
    fn personal_id(&mut self, path: &str) -> String {
        let id = self.text(path, 12 + 8);
        let valid = id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit());
        if !id.is_empty() && !valid {
            self.fail(path, "must be exactly 12 digits");
        }
        id
    }

    fn sex(&mut self, path: &str) -> String {
        let sex = self.text(path, SHORT);
        if !sex.is_empty() && sex != "Nam" && sex != "Nữ" {
            self.fail(path, "must be Nam or Nữ");
        }
        sex
    }

    /// Optional `HH:MM`.
    fn time_of_day(&mut self, path: &str) -> Option<(u32, u32)> {
        let text = self.optional_text(path, 5)?;
        let parsed = text.split_once(':').and_then(|(h, m)| {
            let (h, m) = (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?);
            (h < 24 && m < 60 && text.len() == 5).then_some((h, m))
        });
        if parsed.is_none() {
            self.fail(path, "must be a time written HH:MM");
        }
        parsed
    }
}
