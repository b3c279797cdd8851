//! Vietnamese numbers in words, for dates and times written out on civil-status forms
//! ("ngày hai mươi lăm tháng mười một năm hai nghìn không trăm hai mươi sáu").
//!
//! Hand-written: no maintained crate covers Vietnamese. The rules, as civil-status forms use them:
//! - 1 after "mươi" is "mốt" (21 "hai mươi mốt"), but "một" after "mười" (11) and alone;
//! - 5 after "mươi" or "mười" is "lăm" (15, 25), "năm" alone or after "linh";
//! - 4 after "mươi" is "tư" (24 "hai mươi tư"), "bốn" otherwise (14 "mười bốn");
//! - a zero tens digit inside a larger number is "linh" (105 "một trăm linh năm"; the northern
//!   form, used consistently here rather than the southern "lẻ");
//! - a zero hundreds digit after thousands is "không trăm" (2026 "hai nghìn không trăm hai mươi
//!   sáu"), and thousands are "nghìn" (not the southern "ngàn");
//! - days 1 to 10 of a month take "mồng" ("ngày mồng năm tháng ba"): without it "ngày năm
//!   tháng ba năm …" reads as if "năm" were the year;
//! - month names stay in lower case ("tháng ba"), as dates are written in running text:
//!   Decree 30/2020 (Appendix II) capitalises a month only inside the name of an event
//!   ("Cách mạng tháng Tám").

use chrono::{Datelike, NaiveDate};

const DIGITS: [&str; 10] = [
    "không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín",
];

/// `n` in words, for 0 ≤ n ≤ 999 999 (enough for any date or time on a form).
pub fn number(n: u32) -> String {
    if n == 0 {
        return DIGITS[0].to_owned();
    }
    let (thousands, rest) = (n / 1000, n % 1000);
    let mut parts = Vec::new();
    if thousands > 0 {
        parts.push(below_thousand(thousands, false));
        parts.push("nghìn".to_owned());
    }
    if rest > 0 {
        parts.push(below_thousand(rest, thousands > 0));
    }
    parts.join(" ")
}

/// 1..=999; `full` spells a zero hundreds digit ("không trăm"), as after "nghìn".
fn below_thousand(n: u32, full: bool) -> String {
    let (hundreds, tens, units) = (
        (n / 100) as usize,
        (n / 10 % 10) as usize,
        (n % 10) as usize,
    );
    let mut words: Vec<&str> = Vec::new();
    let has_hundreds = hundreds > 0 || full;
    if has_hundreds {
        words.extend([DIGITS[hundreds], "trăm"]);
    }
    match tens {
        0 if units > 0 && has_hundreds => words.extend(["linh", DIGITS[units]]),
        0 => {
            if units > 0 {
                words.push(DIGITS[units]);
            }
        }
        1 => {
            words.push("mười");
            match units {
                0 => {}
                5 => words.push("lăm"),
                u => words.push(DIGITS[u]),
            }
        }
        t => {
            words.extend([DIGITS[t], "mươi"]);
            match units {
                0 => {}
                1 => words.push("mốt"),
                4 => words.push("tư"),
                5 => words.push("lăm"),
                u => words.push(DIGITS[u]),
            }
        }
    }
    words.join(" ")
}

/// The month's name: "tư" for April, as the calendar names it, else the number.
fn month(m: u32) -> String {
    if m == 4 {
        "tư".to_owned()
    } else {
        number(m)
    }
}

/// "ngày hai mươi lăm tháng mười một năm hai nghìn không trăm hai mươi sáu",
/// "ngày mồng năm tháng ba năm …".
pub fn date(d: NaiveDate) -> String {
    let mong = if d.day() <= 10 { "mồng " } else { "" };
    format!(
        "ngày {mong}{} tháng {} năm {}",
        number(d.day()),
        month(d.month()),
        number(d.year().unsigned_abs())
    )
}

/// "mười bốn giờ ba mươi phút".
pub fn time(hour: u32, minute: u32) -> String {
    format!("{} giờ {} phút", number(hour), number(minute))
}

/// Capitalises the first letter, for words that open a sentence ("Ngày hai mươi…").
pub fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_teens() {
        let expected = [
            "không",
            "một",
            "hai",
            "ba",
            "bốn",
            "năm",
            "sáu",
            "bảy",
            "tám",
            "chín",
            "mười",
            "mười một",
            "mười hai",
            "mười ba",
            "mười bốn",
            "mười lăm",
            "mười sáu",
            "mười bảy",
            "mười tám",
            "mười chín",
        ];
        for (n, words) in expected.iter().enumerate() {
            assert_eq!(number(n as u32), *words, "{n}");
        }
    }

    #[test]
    fn tens_use_mot_tu_lam() {
        assert_eq!(number(20), "hai mươi");
        assert_eq!(number(21), "hai mươi mốt");
        assert_eq!(number(24), "hai mươi tư");
        assert_eq!(number(25), "hai mươi lăm");
        assert_eq!(number(31), "ba mươi mốt");
        assert_eq!(number(45), "bốn mươi lăm");
        assert_eq!(number(59), "năm mươi chín");
        assert_eq!(number(99), "chín mươi chín");
    }

    #[test]
    fn hundreds_use_linh_for_a_zero_ten() {
        assert_eq!(number(100), "một trăm");
        assert_eq!(number(101), "một trăm linh một");
        assert_eq!(number(104), "một trăm linh bốn");
        assert_eq!(number(105), "một trăm linh năm");
        assert_eq!(number(110), "một trăm mười");
        assert_eq!(number(115), "một trăm mười lăm");
        assert_eq!(number(121), "một trăm hai mươi mốt");
        assert_eq!(number(999), "chín trăm chín mươi chín");
    }

    #[test]
    fn years() {
        assert_eq!(number(1900), "một nghìn chín trăm");
        assert_eq!(number(1945), "một nghìn chín trăm bốn mươi lăm");
        assert_eq!(number(1975), "một nghìn chín trăm bảy mươi lăm");
        assert_eq!(number(2000), "hai nghìn");
        assert_eq!(number(2001), "hai nghìn không trăm linh một");
        assert_eq!(number(2005), "hai nghìn không trăm linh năm");
        assert_eq!(number(2010), "hai nghìn không trăm mười");
        assert_eq!(number(2015), "hai nghìn không trăm mười lăm");
        assert_eq!(number(2024), "hai nghìn không trăm hai mươi tư");
        assert_eq!(number(2026), "hai nghìn không trăm hai mươi sáu");
        assert_eq!(number(2100), "hai nghìn một trăm");
        assert_eq!(number(12_345), "mười hai nghìn ba trăm bốn mươi lăm");
    }

    #[test]
    fn dates_and_times() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        assert_eq!(
            date(d),
            "ngày hai mươi lăm tháng mười một năm hai nghìn không trăm hai mươi sáu"
        );
        let d = NaiveDate::from_ymd_opt(1990, 4, 1).unwrap();
        assert_eq!(
            date(d),
            "ngày mồng một tháng tư năm một nghìn chín trăm chín mươi"
        );
        let d = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
        assert_eq!(
            date(d),
            "ngày mồng năm tháng ba năm hai nghìn không trăm hai mươi sáu"
        );
        let d = NaiveDate::from_ymd_opt(2026, 10, 10).unwrap();
        assert_eq!(
            date(d),
            "ngày mồng mười tháng mười năm hai nghìn không trăm hai mươi sáu"
        );
        // From the eleventh on, no "mồng".
        let d = NaiveDate::from_ymd_opt(2026, 1, 11).unwrap();
        assert_eq!(
            date(d),
            "ngày mười một tháng một năm hai nghìn không trăm hai mươi sáu"
        );
        let d = NaiveDate::from_ymd_opt(2005, 12, 31).unwrap();
        assert_eq!(
            date(d),
            "ngày ba mươi mốt tháng mười hai năm hai nghìn không trăm linh năm"
        );
        assert_eq!(time(14, 30), "mười bốn giờ ba mươi phút");
        assert_eq!(time(0, 5), "không giờ năm phút");
        assert_eq!(time(21, 15), "hai mươi mốt giờ mười lăm phút");
        assert_eq!(capitalize("ngày một"), "Ngày một");
        assert_eq!(capitalize("đặc khu"), "Đặc khu");
    }
}
