//! `kyso demo load haiphong` (and `serve --demo haiphong` in dev mode): Hải Phòng's 114 real
//! commune-level units (`assets/demo/haiphong.tsv`, with its sources) and, for each, invented
//! officials in a roll-out under way, as reported in July 2025 — weeks after the reform some
//! units "had no digital signature, or not enough". So the dashboard shows who cannot sign
//! yet, what is stuck at the CA (overdue too) and what expires soon.
//!
//! Everything is drawn from a fixed seed, so every load tells the same story; only the dates
//! move with the day of loading. The certificates of covered officials are real ones from the
//! dev issuing CA that name their holder, so the readiness rules hold for them as for any.

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use fastrand::Rng;
use serde::Serialize;

use crate::db::models::{Commune, IssuanceRequest, Official, RequestEvent};
use crate::db::schema::{communes, issuance_requests, request_events};
use crate::db::{self, DbConnection};
use crate::error::{Error, Result};
use crate::pki::dev::{self, Issued, KeyAlgorithm, Manifest, Profile, SubjectSpec};
use crate::pki::trust::TrustStore;
use crate::rollout::officials::{self, NewOfficial};
use crate::rollout::{
    audit, certificates, new_id, Form, OfficialKind, Position, RequestKind, RequestState,
};

const UNITS: &str = include_str!("../../../assets/demo/haiphong.tsv");
const PROVINCE: &str = "Thành phố Hải Phòng";
const ACTOR: &str = "kyso demo";
/// 1 July 2025, the day the new communes started: the story is the same on every load.
const SEED: u64 = 20_250_701;
const NOTE: &str = "Dữ liệu mẫu (demo)";

/// One commune-level unit as the data file lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub code: String,
    /// `xã`, `phường` or `đặc khu`.
    pub kind: String,
    pub name: String,
}

/// The units of the data file, in the resolution's order.
pub fn units() -> Result<Vec<Unit>> {
    UNITS
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| match line.split('\t').collect::<Vec<_>>()[..] {
            [code, kind, name, _clause] if super::super::communes::KINDS.contains(&kind) => {
                Ok(Unit {
                    code: code.into(),
                    kind: kind.into(),
                    name: name.into(),
                })
            }
            _ => Err(Error::internal(format!("haiphong.tsv: bad line `{line}`"))),
        })
        .collect()
}

/// What a load did.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Loaded {
    pub communes: usize,
    pub officials: usize,
    pub certificates: usize,
    pub requests: usize,
    /// The units were there from an earlier load: nothing was written.
    pub already_loaded: bool,
}

/// Loads the units with their officials, certificates and requests in one transaction. A
/// second load finds them (all marked demo) and writes nothing; a database holding any of
/// these codes otherwise is refused, so demo data never mixes with real records.
pub fn load(
    conn: &mut DbConnection,
    dir: &Path,
    manifest: &Manifest,
    trust: &TrustStore,
    now: DateTime<Utc>,
) -> Result<Loaded> {
    let units = units()?;
    let codes: Vec<&str> = units.iter().map(|u| u.code.as_str()).collect();
    conn.transaction(|conn| {
        let present: Vec<Commune> = communes::table
            .filter(communes::code.eq_any(&codes))
            .select(Commune::as_select())
            .load(conn)?;
        if present.len() == units.len() && present.iter().all(|c| c.demo) {
            return Ok(Loaded {
                communes: units.len(),
                already_loaded: true,
                ..Loaded::default()
            });
        }
        if let Some(first) = present.first() {
            return Err(Error::Conflict(format!(
                "{} of Hải Phòng's units are already registered (e.g. {} {}); the demo loads \
                 only into a database without them",
                present.len(),
                first.code,
                first.name
            )));
        }
        let mut story = Story {
            conn,
            rng: Rng::with_seed(SEED),
            ca: manifest.issuing_ca(dir)?,
            trust,
            now,
            serial: 0,
            loaded: Loaded::default(),
        };
        for unit in &units {
            story.unit(unit)?;
        }
        Ok(story.loaded)
    })
}

/// How far a unit has come (shares chosen to match the July 2025 reports).
#[derive(Clone, Copy)]
enum Stage {
    /// Every required position covered; some certificates expire soon.
    Ready,
    /// Agency and chair covered, some vice-chair or the civil-status officer still waiting.
    Partial,
    /// No agency certificate yet (so no electronic seal), some people covered.
    NoAgency,
    /// Nothing issued yet.
    Nothing,
}

/// An official's certificate, or where the request for one stands.
enum Cover {
    /// Valid now, ending in this many days.
    Valid {
        days_left: i64,
    },
    /// Nothing filed yet.
    NotFiled,
    Drafted {
        days_ago: i64,
    },
    Submitted {
        days_ago: i64,
    },
    Received {
        days_ago: i64,
    },
}

struct Person {
    id: String,
    position: Position,
    cover: Cover,
}

struct Story<'a, 'c> {
    conn: &'c mut DbConnection,
    rng: Rng,
    ca: Issued,
    trust: &'a TrustStore,
    now: DateTime<Utc>,
    /// Numbers the invented personal ids.
    serial: u32,
    loaded: Loaded,
}

impl Story<'_, '_> {
    fn unit(&mut self, unit: &Unit) -> Result<()> {
        let commune = Commune {
            code: unit.code.clone(),
            name: unit.name.clone(),
            kind: unit.kind.clone(),
            province: PROVINCE.into(),
            demo: true,
            created_at: db::timestamp(self.now),
        };
        diesel::insert_into(communes::table)
            .values(&commune)
            .execute(self.conn)?;
        audit::record(
            self.conn,
            ACTOR,
            "commune.create",
            &commune.code,
            None,
            Some(&commune),
        )?;
        self.loaded.communes += 1;

        let stage = match self.rng.u8(0..100) {
            0..45 => Stage::Ready,
            45..72 => Stage::Partial,
            72..88 => Stage::NoAgency,
            _ => Stage::Nothing,
        };
        let vice_chairs = if self.rng.u8(0..100) < 60 { 2 } else { 1 };
        let mut positions = vec![(format!("{}-chair", unit.code), Position::Chair)];
        positions.extend(
            (1..=vice_chairs)
                .map(|n| (format!("{}-vice-chair-{n}", unit.code), Position::ViceChair)),
        );
        positions.push((format!("{}-civil-status", unit.code), Position::CivilStatus));
        positions.push((format!("{}-agency", unit.code), Position::Agency));
        let mut people: Vec<Person> = positions
            .into_iter()
            .map(|(id, position)| {
                let cover = self.cover(stage, position);
                Person {
                    id,
                    position,
                    cover,
                }
            })
            .collect();
        // A partial unit waits for someone, whatever the draw said.
        if matches!(stage, Stage::Partial)
            && people
                .iter()
                .all(|p| matches!(p.cover, Cover::Valid { .. }))
        {
            if let Some(officer) = people
                .iter_mut()
                .find(|p| p.position == Position::CivilStatus)
            {
                officer.cover = self.waiting(false);
            }
        }
        for person in people {
            self.person(unit, person)?;
        }
        Ok(())
    }

    fn cover(&mut self, stage: Stage, position: Position) -> Cover {
        let covered = match (stage, position) {
            (Stage::Ready, _) | (Stage::Partial, Position::Agency | Position::Chair) => true,
            (Stage::Partial, _) => self.rng.bool(),
            (Stage::NoAgency, Position::Agency) | (Stage::Nothing, _) => false,
            (Stage::NoAgency, Position::Chair) => self.rng.u8(0..100) < 70,
            (Stage::NoAgency, _) => self.rng.bool(),
        };
        if covered {
            // Renewals due: a few certificates end within 30 days, a few within 60.
            let days_left = match self.rng.u8(0..100) {
                0..6 => self.rng.i64(3..=28),
                6..12 => self.rng.i64(35..=58),
                _ => self.rng.i64(400..=1000),
            };
            Cover::Valid { days_left }
        } else {
            // The agency's own request (Mẫu 02) is the one that most often lingers at the CA.
            self.waiting(position == Position::Agency)
        }
    }

    fn waiting(&mut self, lingers: bool) -> Cover {
        let draw = self.rng.u8(0..100);
        match draw {
            0..12 if !lingers => Cover::NotFiled,
            0..30 if !lingers => Cover::Drafted {
                days_ago: self.rng.i64(1..=10),
            },
            _ if draw < 80 => Cover::Submitted {
                days_ago: if lingers {
                    self.rng.i64(4..=20)
                } else {
                    self.rng.i64(0..=12)
                },
            },
            _ => Cover::Received {
                days_ago: self.rng.i64(1..=10),
            },
        }
    }

    fn person(&mut self, unit: &Unit, person: Person) -> Result<()> {
        let agency = format!("UBND {}", unit.name.to_uppercase());
        let (new, uid) = if person.position == Position::Agency {
            // Identifiers no real one has: tax codes "98…", citizen ids of province "098".
            let tax_code = format!("98{}000", unit.code);
            let uid = format!("MST:{tax_code}");
            let new = NewOfficial {
                commune_code: unit.code.clone(),
                kind: OfficialKind::Agency,
                name: agency.clone(),
                personal_id: None,
                tax_code: Some(tax_code),
                position: Position::Agency,
                id: Some(person.id),
            };
            (new, uid)
        } else {
            let (name, female) = self.name();
            self.serial += 1;
            let born = self.rng.u8(62..=95);
            let personal_id = format!("098{}{born:02}{:06}", u8::from(female), self.serial);
            let uid = format!("CCCD:{personal_id}");
            let new = NewOfficial {
                commune_code: unit.code.clone(),
                kind: OfficialKind::Person,
                name,
                personal_id: Some(personal_id),
                tax_code: None,
                position: person.position,
                id: Some(person.id),
            };
            (new, uid)
        };
        let holder = officials::create_as(self.conn, ACTOR, new)?;
        self.loaded.officials += 1;
        match person.cover {
            Cover::Valid { days_left } => {
                self.certificate(&holder, &agency, &unit.name, &uid, days_left)?;
                // Half of the certificates ending within a month are being renewed.
                if days_left <= 30 && self.rng.bool() {
                    let days_ago = self.rng.i64(0..=6);
                    self.request(
                        &holder,
                        RequestKind::Renewal,
                        RequestState::Submitted,
                        days_ago,
                    )?;
                }
            }
            Cover::NotFiled => {}
            Cover::Drafted { days_ago } => {
                self.request(&holder, RequestKind::New, RequestState::Drafted, days_ago)?;
            }
            Cover::Submitted { days_ago } => {
                self.request(&holder, RequestKind::New, RequestState::Submitted, days_ago)?;
            }
            Cover::Received { days_ago } => {
                self.request(&holder, RequestKind::New, RequestState::Received, days_ago)?;
            }
        }
        Ok(())
    }

    /// A real certificate from the dev issuing CA naming `holder`. Its P-256 key is thrown
    /// away (cheap to make, and nothing signs with it): the roll-out registry tracks
    /// certificates, not keys.
    fn certificate(
        &mut self,
        holder: &Official,
        agency: &str,
        commune: &str,
        uid: &str,
        days_left: i64,
    ) -> Result<()> {
        let issued_at = self.now - Duration::days(self.rng.i64(5..=120));
        let subject = SubjectSpec {
            common_name: &holder.name,
            organization: Some(agency),
            locality: Some(commune),
            uid: Some(uid),
        };
        let cert = dev::issue(
            &self.ca,
            &subject,
            Profile::Signer,
            KeyAlgorithm::EcdsaP256,
            issued_at,
            self.now + Duration::days(days_left),
        )?;
        let pem = cert.cert.to_pem().map_err(Error::internal)?;
        let parsed = certificates::parse(&pem)?;
        let trusted = certificates::is_trusted(&parsed, holder, self.trust);
        certificates::register(self.conn, ACTOR, parsed, holder.clone(), trusted, false)?;
        self.loaded.certificates += 1;
        Ok(())
    }

    /// A request of `holder` that reached `state`, sent (or drafted) `days_ago`, with the
    /// events that brought it there.
    fn request(
        &mut self,
        holder: &Official,
        kind: RequestKind,
        state: RequestState,
        days_ago: i64,
    ) -> Result<()> {
        // Office hours, Vietnam time (01:00–10:00 UTC is 08:00–17:00 there).
        let sent = (self.now - Duration::days(days_ago))
            .date_naive()
            .and_hms_opt(u32::from(self.rng.u8(1..10)), 0, 0)
            .map(|t| t.and_utc())
            .ok_or_else(|| Error::internal("demo request time"))?
            .min(self.now);
        let drafted = sent - Duration::days(self.rng.i64(1..=3));
        let received = (sent + Duration::days(self.rng.i64(1..=2))).min(self.now);
        let mut steps = vec![(None, RequestState::Drafted, drafted)];
        if state != RequestState::Drafted {
            steps.push((Some(RequestState::Drafted), RequestState::Submitted, sent));
        }
        if state == RequestState::Received {
            steps.push((
                Some(RequestState::Submitted),
                RequestState::Received,
                received,
            ));
        }
        let at = |s: RequestState| {
            steps
                .iter()
                .find(|(_, to, _)| *to == s)
                .map(|(_, _, t)| db::timestamp(*t))
        };
        let request = IssuanceRequest {
            id: new_id(),
            commune_code: holder.commune_code.clone(),
            official_id: holder.id.clone(),
            kind: kind.as_str().into(),
            form: if holder.kind == OfficialKind::Agency.as_str() {
                Form::Mau02
            } else {
                Form::Mau01
            }
            .as_str()
            .into(),
            state: state.as_str().into(),
            note: NOTE.into(),
            certificate_id: None,
            submitted_at: at(RequestState::Submitted),
            received_at: at(RequestState::Received),
            closed_at: None,
            created_at: db::timestamp(drafted),
            updated_at: steps
                .last()
                .map_or_else(|| db::timestamp(drafted), |(_, _, t)| db::timestamp(*t)),
        };
        diesel::insert_into(issuance_requests::table)
            .values(&request)
            .execute(self.conn)?;
        // One by one: the two-backend connection has no multi-row INSERT.
        for (seq, (from, to, time)) in (1..).zip(&steps) {
            diesel::insert_into(request_events::table)
                .values(&RequestEvent {
                    id: new_id(),
                    request_id: request.id.clone(),
                    seq,
                    actor: ACTOR.into(),
                    from_state: from.map(|s| s.as_str().into()),
                    to_state: to.as_str().into(),
                    note: NOTE.into(),
                    created_at: db::timestamp(*time),
                })
                .execute(self.conn)?;
        }
        audit::record(
            self.conn,
            ACTOR,
            "request.create",
            &request.id,
            None,
            Some(&request),
        )?;
        self.loaded.requests += 1;
        Ok(())
    }

    /// A common Vietnamese full name (family, middle, given) and whether it is a woman's.
    fn name(&mut self) -> (String, bool) {
        const FAMILY: [&str; 20] = [
            "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Phan", "Bùi", "Đặng", "Đỗ", "Ngô",
            "Dương", "Đinh", "Hồ", "Mạc", "Đoàn", "Trịnh", "Lương", "Cao", "Nguyễn",
        ];
        const MIDDLE_MEN: [&str; 10] = [
            "Văn", "Đức", "Minh", "Quang", "Hữu", "Xuân", "Thanh", "Ngọc", "Mạnh", "Công",
        ];
        const MIDDLE_WOMEN: [&str; 6] = ["Thị", "Thu", "Thanh", "Ngọc", "Hồng", "Minh"];
        const GIVEN_MEN: [&str; 20] = [
            "An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Khánh", "Long", "Nam", "Phong", "Quân",
            "Sơn", "Thắng", "Toàn", "Tuấn", "Việt", "Hưng", "Đạt", "Hiếu", "Trung",
        ];
        const GIVEN_WOMEN: [&str; 20] = [
            "Hà", "Hạnh", "Hằng", "Hoa", "Hương", "Lan", "Linh", "Mai", "Nga", "Ngọc", "Nhung",
            "Oanh", "Phương", "Thảo", "Thủy", "Trang", "Vân", "Yến", "Huyền", "Loan",
        ];
        let pick = |rng: &mut Rng, list: &[&'static str]| list[rng.usize(0..list.len())];
        let female = self.rng.u8(0..100) < 40;
        let family = pick(&mut self.rng, &FAMILY);
        let (middle, given) = if female {
            (
                pick(&mut self.rng, &MIDDLE_WOMEN),
                pick(&mut self.rng, &GIVEN_WOMEN),
            )
        } else {
            (
                pick(&mut self.rng, &MIDDLE_MEN),
                pick(&mut self.rng, &GIVEN_MEN),
            )
        };
        (format!("{family} {middle} {given}"), female)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_file_lists_114_units_as_the_resolution_does() {
        let units = units().unwrap();
        assert_eq!(units.len(), 114);
        let count = |kind: &str| units.iter().filter(|u| u.kind == kind).count();
        assert_eq!(
            (count("xã"), count("phường"), count("đặc khu")),
            (67, 45, 2)
        );
        let mut codes: Vec<&str> = units.iter().map(|u| u.code.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), 114);
        for unit in &units {
            assert!(unit.code.len() == 5 && unit.code.bytes().all(|b| b.is_ascii_digit()));
            // The name starts with its kind: "Xã …", "Phường …", "Đặc khu …".
            let lower = unit.name.to_lowercase();
            assert!(lower.starts_with(&format!("{} ", unit.kind)), "{unit:?}");
        }
        let find = |code: &str| units.iter().find(|u| u.code == code).unwrap();
        assert_eq!(find("11948").name, "Đặc khu Bạch Long Vĩ");
        assert_eq!(find("11914").name, "Đặc khu Cát Hải");
        assert_eq!(find("11560").name, "Phường Thủy Nguyên");
    }
}
