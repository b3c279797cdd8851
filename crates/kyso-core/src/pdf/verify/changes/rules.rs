//! Document-level rules: the catalog, /Info, XMP metadata and the DSS (ISO 32000-2 §12.8.4.3,
//! ETSI EN 319 142-1 §5.4.2). All of them are `lta_updates`: they change nothing a reader sees.

use lopdf::{Dictionary, Object};

use super::graph::{self, Usage};
use super::{approval, text, Revision, Verdicts};
use crate::pdf::verify::report::ModificationLevel::LtaUpdates;

/// Catalog keys that later updates may change; /AcroForm, /DSS and /Metadata are judged by
/// their own rules.
const CATALOG_MAY_CHANGE: &[&[u8]] = &[
    b"AcroForm",
    b"DSS",
    b"Extensions",
    b"Metadata",
    b"MarkInfo",
    b"Version",
];

pub fn catalog(r: &Revision, v: &mut Verdicts) {
    let (Some(old_id), Some(new_id)) = (r.old_catalog_id(), r.new_catalog_id()) else {
        v.finding(None, text::CATALOG_CHANGED);
        return;
    };
    let (Some(old), Some(new)) = (r.old.objects.get(&old_id), r.new.objects.get(&new_id)) else {
        v.finding(Some(new_id), text::CATALOG_CHANGED);
        return;
    };
    let (Some(od), Some(nd)) = (graph::dict(old), graph::dict(new)) else {
        v.finding(Some(new_id), text::CATALOG_CHANGED);
        return;
    };
    if old_id != new_id || !graph::dicts_equal_except(od, nd, CATALOG_MAY_CHANGE) {
        v.finding(Some(new_id), text::CATALOG_CHANGED);
        return;
    }
    // The catalog is referenced from many places (/Data of a DocMDP reference, …); its keys
    // were compared above, so it is cleared on every path at once.
    v.approve(r.old, new_id, approval(LtaUpdates, text::CATALOG, None));
    for key in [&b"Extensions"[..], b"MarkInfo"] {
        r.approve_key_ref(
            v,
            od.get(key).ok(),
            nd.get(key).ok(),
            Usage::at(Some(new_id), &format!("/{}", String::from_utf8_lossy(key))),
            LtaUpdates,
            text::EXTENSIONS,
        );
    }
}

pub fn info(r: &Revision, v: &mut Verdicts) {
    r.approve_key_ref(
        v,
        r.old.trailer.get(b"Info").ok(),
        r.new.trailer.get(b"Info").ok(),
        Usage::at(None, "/Info"),
        LtaUpdates,
        text::INFO,
    );
}

/// XMP metadata may be replaced, also in place: it is XML a reader does not render.
pub fn metadata(r: &Revision, v: &mut Verdicts) {
    let (Some(old_cat), Some(new_cat)) = (catalog_dict(r, true), catalog_dict(r, false)) else {
        return;
    };
    let Ok(Object::Reference(new_ref)) = new_cat.get(b"Metadata") else {
        return;
    };
    let is_xmp = matches!(r.new.objects.get(new_ref), Some(Object::Stream(s))
        if memchr::memmem::find(crate::pdf::read::stream_data(r.pdf, s), b"xmpmeta").is_some()
            || s.dict.get(b"Filter").is_ok());
    if !is_xmp {
        v.finding(Some(*new_ref), text::METADATA_MALFORMED);
        return;
    }
    let old_ref = old_cat.get(b"Metadata").and_then(Object::as_reference).ok();
    if old_ref == Some(*new_ref) || !r.old.objects.contains_key(new_ref) {
        let via = Usage::at(r.new_catalog_id(), "/Metadata");
        v.approve(
            r.old,
            *new_ref,
            approval(LtaUpdates, text::METADATA, Some(via)),
        );
    } else {
        v.finding(Some(*new_ref), text::CLOBBER);
    }
}

pub(super) fn catalog_dict<'a>(r: &'a Revision, old: bool) -> Option<&'a Dictionary> {
    let (doc, id) = if old {
        (r.old, r.old_catalog_id()?)
    } else {
        (r.new, r.new_catalog_id()?)
    };
    doc.objects.get(&id).and_then(graph::dict)
}

const DSS_KEYS: &[&[u8]] = &[b"Type", b"VRI", b"Certs", b"CRLs", b"OCSPs"];
const VRI_KEYS: &[&[u8]] = &[b"Type", b"TU", b"TS", b"Cert", b"CRL", b"OCSP"];

/// The DSS may grow (and drop data that is no longer needed, as PAdES allows); its arrays
/// may be direct or indirect, but must hold references to streams.
pub fn dss(r: &Revision, v: &mut Verdicts) {
    let (Some(old_cat), Some(new_cat)) = (catalog_dict(r, true), catalog_dict(r, false)) else {
        return;
    };
    let (old_raw, new_raw) = (old_cat.get(b"DSS").ok(), new_cat.get(b"DSS").ok());
    let Some(new_raw) = new_raw else {
        if old_raw.is_some() {
            v.finding(r.new_catalog_id(), text::DSS_MALFORMED);
        }
        return;
    };
    if !r.approve_key_ref(
        v,
        old_raw,
        Some(new_raw),
        Usage::at(r.new_catalog_id(), "/DSS"),
        LtaUpdates,
        text::DSS,
    ) {
        return;
    }
    let empty = Dictionary::new();
    let old_dss = old_raw
        .and_then(|o| graph::resolve_dict(r.old, o))
        .unwrap_or(&empty);
    let Some(new_dss) = graph::resolve_dict(r.new, new_raw) else {
        v.finding(r.new_catalog_id(), text::DSS_MALFORMED);
        return;
    };
    // Where the DSS's own keys sit: in its object, or inside the catalog.
    let (holder, prefix) = match new_raw {
        Object::Reference(id) => (Some(*id), String::new()),
        _ => (r.new_catalog_id(), "/DSS".to_owned()),
    };
    if !new_dss
        .iter()
        .all(|(k, _)| DSS_KEYS.contains(&k.as_slice()))
    {
        v.finding(holder, text::DSS_MALFORMED);
        return;
    }
    streams_arrays(
        r,
        v,
        old_dss,
        new_dss,
        &[b"Certs", b"CRLs", b"OCSPs"],
        holder,
        &prefix,
    );

    let Ok(new_vri_raw) = new_dss.get(b"VRI") else {
        if old_dss.has(b"VRI") {
            v.finding(holder, text::DSS_MALFORMED);
        }
        return;
    };
    let old_vri_raw = old_dss.get(b"VRI").ok();
    if !r.approve_key_ref(
        v,
        old_vri_raw,
        Some(new_vri_raw),
        Usage::at(holder, &format!("{prefix}/VRI")),
        LtaUpdates,
        text::DSS,
    ) {
        return;
    }
    let old_vri = old_vri_raw
        .and_then(|o| graph::resolve_dict(r.old, o))
        .unwrap_or(&empty);
    let Some(new_vri) = graph::resolve_dict(r.new, new_vri_raw) else {
        v.finding(holder, text::DSS_MALFORMED);
        return;
    };
    // Entries for signatures validated earlier stay as they were.
    if old_vri
        .iter()
        .any(|(k, old)| new_vri.get(k).ok() != Some(old))
    {
        v.finding(holder, text::DSS_MALFORMED);
        return;
    }
    for (key, entry) in new_vri.iter().filter(|(k, _)| !old_vri.has(k)) {
        let Some(entry_dict) = graph::resolve_dict(r.new, entry) else {
            v.finding(holder, text::DSS_MALFORMED);
            return;
        };
        let ok_key = key.len() == 40 && key.iter().all(|b| b.is_ascii_hexdigit());
        if !ok_key
            || !entry_dict
                .iter()
                .all(|(k, _)| VRI_KEYS.contains(&k.as_slice()))
        {
            v.finding(holder, text::DSS_MALFORMED);
            return;
        }
        r.approve_new(v, entry, LtaUpdates, text::DSS);
    }
}

fn streams_arrays(
    r: &Revision,
    v: &mut Verdicts,
    old: &Dictionary,
    new: &Dictionary,
    keys: &[&[u8]],
    holder: Option<lopdf::ObjectId>,
    prefix: &str,
) {
    for key in keys {
        let Ok(value) = new.get(key) else { continue };
        let all_streams = graph::ref_array(r.new, Some(value)).is_some_and(|ids| {
            ids.iter()
                .all(|id| matches!(r.new.objects.get(id), Some(Object::Stream(_))))
        });
        if !all_streams {
            v.finding(holder, text::DSS_MALFORMED);
            continue;
        }
        let path = format!("{prefix}/{}", String::from_utf8_lossy(key));
        r.approve_value(
            v,
            old.get(key).ok(),
            value,
            Usage::at(holder, &path),
            LtaUpdates,
            text::DSS,
        );
    }
}
