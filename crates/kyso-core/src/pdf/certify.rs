//! Adds a certification statement to an existing PDF as an incremental update: the original
//! bytes stay a byte-for-byte prefix of the result. The statement is either a new last page or a
//! stamp drawn over the last page (a form XObject appended to its content).

use lopdf::{dictionary, Dictionary, Document, Object, ObjectId};

use crate::error::{Error, Result};
use crate::pdf::object::{self, deflate};
use crate::pdf::original::{reference, Original};
use crate::pdf::read::{self, Limits};
use crate::pdf::render::canvas::{Drawing, A4};
use crate::pdf::render::statement::{self, Statement};
use crate::pdf::syntax;
use crate::pdf::update::Update;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Placement {
    /// A page of its own after the scanned pages.
    Page,
    /// A framed block at the lower right of the last page.
    Stamp,
}

pub struct Certified {
    pub pdf: Vec<u8>,
    /// 1-based page and rectangle of the certifier's visible signature.
    pub signature_page: u32,
    pub signature_rect: [f32; 4],
}

/// Refuses a PDF that is already signed: a new page changes the page tree and a stamp the
/// page's content, both changes ISO 32000-2 §12.8.2.2 does not allow after a signature (pyHanko:
/// "Unexpected change to page tree structure", "Values for dict key /Resources differ"), so the
/// earlier signature would be reported broken on the copy.
pub fn certify(
    pdf: &[u8],
    st: &Statement,
    placement: Placement,
    limits: &Limits,
) -> Result<Certified> {
    let doc = read::writable(pdf, limits)?;
    if object::is_signed(&doc) {
        return Err(Error::PdfAlreadySigned);
    }
    let pages = doc.get_pages();
    let (&last_no, &last_id) = pages
        .iter()
        .next_back()
        .ok_or_else(|| Error::PdfMalformed("the document has no pages".into()))?;
    let mut update = Update::new(&doc);
    let original = Original::new(pdf, &doc);
    let (signature_page, signature_rect) = match placement {
        Placement::Page => {
            let drawn = statement::page(st)?;
            add_page(&original, &mut update, &drawn.drawing)?;
            (last_no + 1, drawn.signature_rect)
        }
        Placement::Stamp => {
            let media_box = page_box(&doc, last_no)?;
            let size = [media_box[2] - media_box[0], media_box[3] - media_box[1]];
            let drawn = statement::stamp(st, size)?;
            stamp_page(&original, &mut update, last_id, &drawn.drawing, media_box)?;
            let [x1, y1, x2, y2] = drawn.signature_rect;
            let (dx, dy) = (media_box[0], media_box[1]);
            (last_no, [x1 + dx, y1 + dy, x2 + dx, y2 + dy])
        }
    };
    let written = update.write(pdf, &doc)?;
    Ok(Certified {
        pdf: written.bytes,
        signature_page,
        signature_rect,
    })
}

/// Where the agency's signature goes on a certified copy: the area the statement keeps for it
/// under the certifier's block (`statement::agency_rect`), so it covers nothing of the scan.
/// Found from the certifier's signature, the copy's first signature field (kyso's own widget,
/// with `/Rect` and `/P`), so that a seal added later finds it whichever placement
/// (`documents.certification`) the copy was made with.
pub fn agency_area(pdf: &[u8], limits: &Limits) -> Result<(u32, [f32; 4])> {
    let doc = read::writable(pdf, limits)?;
    let missing = || Error::PdfMalformed("the copy has no certifier's signature".into());
    let fields = crate::pdf::sign::acroform(&doc)?
        .get(b"Fields")
        .map_err(|_| missing())?;
    let Ok((_, Object::Array(fields))) = doc.dereference(fields) else {
        return Err(missing());
    };
    let widget = fields
        .iter()
        .filter_map(|f| match doc.dereference(f) {
            Ok((_, Object::Dictionary(d))) => Some(d),
            _ => None,
        })
        .find(|d| d.get(b"FT").and_then(Object::as_name).ok() == Some(b"Sig"))
        .ok_or_else(missing)?;
    let rect: Vec<f32> = widget
        .get(b"Rect")
        .and_then(Object::as_array)
        .map_err(|_| missing())?
        .iter()
        .filter_map(|v| v.as_float().ok())
        .collect();
    let page_id = widget
        .get(b"P")
        .and_then(Object::as_reference)
        .map_err(|_| missing())?;
    let page = doc
        .get_pages()
        .into_iter()
        .find_map(|(no, id)| (id == page_id).then_some(no))
        .ok_or_else(missing)?;
    match rect[..] {
        [x1, y1, x2, y2] => Ok((page, statement::agency_rect([x1, y1, x2, y2]))),
        _ => Err(missing()),
    }
}

/// The page's MediaBox (inherited if need be), A4 when it has none.
pub fn page_box(doc: &Document, page: u32) -> Result<[f32; 4]> {
    let id = *doc
        .get_pages()
        .get(&page)
        .ok_or_else(|| Error::PdfMalformed(format!("the document has no page {page}")))?;
    Ok(inherited(doc, doc.get_dictionary(id)?, b"MediaBox")
        .and_then(|b| b.as_array().ok().cloned())
        .and_then(|b| {
            let v: Vec<f32> = b.iter().filter_map(|o| o.as_float().ok()).collect();
            (v.len() == 4).then(|| [v[0], v[1], v[2], v[3]])
        })
        .unwrap_or([0.0, 0.0, A4[0], A4[1]]))
}

/// The statement's fonts as new objects; returns a `/Font` resource dictionary.
fn fonts(update: &mut Update, drawing: &Drawing) -> Dictionary {
    let mut resources = Dictionary::new();
    for (name, font) in &drawing.fonts {
        let (id, objects) = font.to_lopdf(update.next_id_mut());
        for (object_id, object) in objects {
            update.put(object_id, object);
        }
        resources.set(name.0.to_vec(), id);
    }
    resources
}

fn content_stream(update: &mut Update, content: &[u8], dict: Dictionary) -> ObjectId {
    let mut packed = deflate(content);
    for (key, value) in dict {
        packed.dict.set(key, value);
    }
    let id = update.alloc();
    update.put(id, packed);
    id
}

fn add_page(original: &Original<'_>, update: &mut Update, drawing: &Drawing) -> Result<()> {
    let content = drawing
        .pages
        .first()
        .ok_or_else(|| Error::internal("empty statement drawing"))?;
    let doc = original.doc;
    let tree_id = doc
        .catalog()?
        .get(b"Pages")
        .and_then(Object::as_reference)
        .map_err(|_| Error::PdfMalformed("the catalog has no page tree".into()))?;
    let tree = original.object(tree_id)?;
    if syntax::get(&tree, b"Kids")?.is_none() {
        return Err(Error::PdfMalformed("the page tree has no /Kids".into()));
    }
    let font = fonts(update, drawing);
    let content_id = content_stream(update, content, Dictionary::new());
    let page_id = update.alloc();
    update.put(
        page_id,
        dictionary! {
            "Type" => "Page",
            "Parent" => tree_id,
            "MediaBox" => vec![0.into(), 0.into(), Object::Real(A4[0]), Object::Real(A4[1])],
            "Contents" => content_id,
            "Resources" => dictionary! { "Font" => font },
        },
    );
    let count = doc
        .get_dictionary(tree_id)?
        .get(b"Count")
        .and_then(Object::as_i64)
        .unwrap_or(0);
    let tree = original.append(update, &tree, b"Kids", page_id)?;
    let tree = syntax::set(&tree, b"Count", (count + 1).to_string().as_bytes())?;
    update.put_raw(tree_id, tree);
    Ok(())
}

/// Draws the stamp over the page: its old content wrapped in q … Q (so a changed graphics
/// state cannot leak into the stamp), then the stamp as a form XObject with its own fonts.
/// The page is edited from its original bytes; inherited or shared resources are copied into
/// it as written, never changed where other pages use them.
fn stamp_page(
    original: &Original<'_>,
    update: &mut Update,
    page_id: ObjectId,
    drawing: &Drawing,
    media_box: [f32; 4],
) -> Result<()> {
    let content = drawing
        .pages
        .first()
        .ok_or_else(|| Error::internal("empty statement drawing"))?;
    let font = fonts(update, drawing);
    let form = content_stream(
        update,
        content,
        dictionary! {
            "Type" => "XObject",
            "Subtype" => "Form",
            "BBox" => vec![0.into(), 0.into(), Object::Real(media_box[2] - media_box[0]), Object::Real(media_box[3] - media_box[1])],
            "Matrix" => vec![1.into(), 0.into(), 0.into(), 1.into(), Object::Real(media_box[0]), Object::Real(media_box[1])],
            "Resources" => dictionary! { "Font" => font },
        },
    );
    let mut page = original.object(page_id)?;
    let dict_or_empty = |value: Option<(Vec<u8>, Option<ObjectId>)>| {
        value
            .map(|(bytes, _)| bytes)
            .filter(|bytes| bytes.starts_with(b"<<"))
            .unwrap_or_else(|| b"<<>>".to_vec())
    };
    let resources = dict_or_empty(inherited_raw(original, &page, b"Resources")?);
    let xobjects = dict_or_empty(original.resolve(&resources, b"XObject")?);
    let mut name = String::new();
    for i in 1.. {
        name = format!("KysoStatement{i}");
        if syntax::get(&xobjects, name.as_bytes())?.is_none() {
            break;
        }
    }
    let xobjects = syntax::set(&xobjects, name.as_bytes(), &reference(form))?;
    let resources = syntax::set(&resources, b"XObject", &xobjects)?;
    page = syntax::set(&page, b"Resources", &resources)?;

    let open = reference(content_stream(update, b"q\n", Dictionary::new()));
    let close = reference(content_stream(
        update,
        format!("\nQ q /{name} Do Q\n").as_bytes(),
        Dictionary::new(),
    ));
    let contents = match syntax::get(&page, b"Contents")? {
        None => [b"[", open.as_slice(), b" ", close.as_slice(), b"]"].concat(),
        Some(value) => {
            let array = match syntax::as_reference(value) {
                Some(id) if matches!(original.doc.get_object(id), Ok(Object::Stream(_))) => {
                    [b"[", value, b"]"].concat()
                }
                Some(id) => original.object(id)?,
                None => value.to_vec(),
            };
            if !array.starts_with(b"[") {
                return Err(Error::PdfMalformed(
                    "the page's /Contents is invalid".into(),
                ));
            }
            syntax::push(&syntax::push_front(&array, &open)?, &close)?
        }
    };
    update.put_raw(page_id, syntax::set(&page, b"Contents", &contents)?);
    Ok(())
}

/// An inheritable page attribute (§7.7.3.4) as written on the page or the nearest ancestor
/// that has it, with one indirect reference followed.
fn inherited_raw(
    original: &Original<'_>,
    page: &[u8],
    key: &[u8],
) -> Result<Option<(Vec<u8>, Option<ObjectId>)>> {
    let mut node = page.to_vec();
    for _ in 0..32 {
        if let Some(value) = original.resolve(&node, key)? {
            return Ok(Some(value));
        }
        let Some(parent) = syntax::get(&node, b"Parent")?.and_then(syntax::as_reference) else {
            return Ok(None);
        };
        node = original.object(parent)?;
    }
    Ok(None)
}

/// A page attribute, looked up through /Parent as inheritable attributes are (§7.7.3.4),
/// dereferenced.
fn inherited(doc: &Document, page: &Dictionary, key: &[u8]) -> Option<Object> {
    let mut node = page.clone();
    for _ in 0..32 {
        if let Ok(value) = node.get(key) {
            return doc.dereference(value).ok().map(|(_, o)| o.clone());
        }
        let parent = node.get(b"Parent").and_then(Object::as_reference).ok()?;
        node = doc.get_dictionary(parent).ok()?.clone();
    }
    None
}
