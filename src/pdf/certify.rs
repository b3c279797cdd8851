//! Adds a certification statement to an existing PDF as an incremental update: the original
//! bytes stay a byte-for-byte prefix of the result. The statement is either a new last page or a
//! stamp drawn over the last page (a form XObject appended to its content).

use lopdf::{dictionary, Dictionary, Document, Object, ObjectId};

use crate::error::{Error, Result};
use crate::pdf::object::deflate;
use crate::pdf::read::{self, Limits};
use crate::pdf::render::canvas::{Drawing, A4};
use crate::pdf::render::statement::{self, Statement};
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

pub fn certify(
    pdf: &[u8],
    st: &Statement,
    placement: Placement,
    limits: &Limits,
) -> Result<Certified> {
    let doc = read::writable(pdf, limits)?;
    let pages = doc.get_pages();
    let (&last_no, &last_id) = pages
        .iter()
        .next_back()
        .ok_or_else(|| Error::PdfMalformed("the document has no pages".into()))?;
    let mut update = Update::new(&doc);
    let (signature_page, signature_rect) = match placement {
        Placement::Page => {
            let drawn = statement::page(st)?;
            add_page(&doc, &mut update, &drawn.drawing)?;
            (last_no + 1, drawn.signature_rect)
        }
        Placement::Stamp => {
            let media_box = page_box(&doc, last_no)?;
            let size = [media_box[2] - media_box[0], media_box[3] - media_box[1]];
            let drawn = statement::stamp(st, size)?;
            stamp_page(&doc, &mut update, last_id, &drawn.drawing, media_box)?;
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

fn add_page(doc: &Document, update: &mut Update, drawing: &Drawing) -> Result<()> {
    let content = drawing
        .pages
        .first()
        .ok_or_else(|| Error::internal("empty statement drawing"))?;
    let catalog = doc.catalog()?;
    let tree_id = catalog
        .get(b"Pages")
        .and_then(Object::as_reference)
        .map_err(|_| Error::PdfMalformed("the catalog has no page tree".into()))?;
    let mut tree = doc.get_dictionary(tree_id)?.clone();
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
    match tree.get(b"Kids") {
        Ok(Object::Reference(kids_id)) => {
            let mut kids = doc.get_object(*kids_id)?.as_array()?.clone();
            kids.push(page_id.into());
            update.put(*kids_id, kids);
        }
        Ok(Object::Array(kids)) => {
            let mut kids = kids.clone();
            kids.push(page_id.into());
            tree.set("Kids", kids);
        }
        _ => return Err(Error::PdfMalformed("the page tree has no /Kids".into())),
    }
    let count = tree.get(b"Count").and_then(Object::as_i64).unwrap_or(0);
    tree.set("Count", count + 1);
    update.put(tree_id, tree);
    Ok(())
}

/// Draws the stamp over the page: its old content wrapped in q … Q (so a changed graphics
/// state cannot leak into the stamp), then the stamp as a form XObject with its own fonts.
fn stamp_page(
    doc: &Document,
    update: &mut Update,
    page_id: ObjectId,
    drawing: &Drawing,
    media_box: [f32; 4],
) -> Result<()> {
    let content = drawing
        .pages
        .first()
        .ok_or_else(|| Error::internal("empty statement drawing"))?;
    let mut page = doc.get_dictionary(page_id)?.clone();
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
    let mut resources = match inherited(doc, &page, b"Resources") {
        Some(Object::Dictionary(d)) => d,
        _ => Dictionary::new(),
    };
    let mut xobjects = match resources.get(b"XObject").ok().map(|o| doc.dereference(o)) {
        Some(Ok((_, Object::Dictionary(d)))) => d.clone(),
        _ => Dictionary::new(),
    };
    let name = (1..)
        .map(|i| format!("KysoStatement{i}"))
        .find(|n| !xobjects.has(n.as_bytes()))
        .unwrap_or_default();
    xobjects.set(name.as_bytes().to_vec(), form);
    resources.set("XObject", xobjects);
    page.set("Resources", resources);

    let open = content_stream(update, b"q\n", Dictionary::new());
    let close = content_stream(
        update,
        format!("\nQ q /{name} Do Q\n").as_bytes(),
        Dictionary::new(),
    );
    let mut contents = vec![Object::from(open)];
    match page.get(b"Contents").ok().map(|o| doc.dereference(o)) {
        Some(Ok((_, Object::Array(items)))) => contents.extend(items.iter().cloned()),
        Some(Ok((Some(id), Object::Stream(_)))) => contents.push(id.into()),
        None => {}
        _ => {
            return Err(Error::PdfMalformed(
                "the page's /Contents is invalid".into(),
            ))
        }
    }
    contents.push(close.into());
    page.set("Contents", contents);
    update.put(page_id, page);
    Ok(())
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
