//! The rules' texts, Vietnamese first: they are shown to officials and citizens on /verify
//! and /d/{code}, and written into the JSON report.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Rule {
    pub vi: &'static str,
    pub en: &'static str,
}

const fn rule(vi: &'static str, en: &'static str) -> Rule {
    Rule { vi, en }
}

// Disallowed: about the file as a whole.
pub const XREF_DAMAGED: Rule = rule(
    "Bảng tham chiếu chéo bị hỏng sau khi ký: các trình đọc có thể hiển thị nội dung khác nhau",
    "cross-reference data damaged after signing: readers may disagree on what the document shows",
);

// Allowed.
pub const CATALOG: Rule = rule(
    "Danh mục tài liệu: chỉ biểu mẫu, DSS, khai báo mở rộng hoặc siêu dữ liệu thay đổi",
    "catalog: only the form, DSS, extensions or metadata changed",
);
pub const EXTENSIONS: Rule = rule(
    "Khai báo phần mở rộng (/Extensions, /MarkInfo) được bổ sung",
    "extension declarations (/Extensions, /MarkInfo) added or updated",
);
pub const INFO: Rule = rule(
    "Thông tin tài liệu (/Info) được cập nhật",
    "document information (/Info) updated",
);
pub const METADATA: Rule = rule("Siêu dữ liệu XMP được cập nhật", "XMP metadata updated");
pub const DSS: Rule = rule(
    "Dữ liệu kiểm tra hiệu lực (DSS: chứng thư, CRL, OCSP) được bổ sung",
    "validation data (DSS: certificates, CRLs, OCSP responses) added",
);
pub const FORM: Rule = rule(
    "Biểu mẫu: danh sách trường được mở rộng",
    "form: list of fields extended",
);
pub const FORM_RESOURCES: Rule = rule(
    "Tài nguyên chung của biểu mẫu (/DR) được bổ sung",
    "form default resources (/DR) extended",
);
pub const NEW_SIGNATURE_FIELD: Rule = rule(
    "Trường chữ ký mới cùng ô hiển thị của nó",
    "new signature field and its widget",
);
pub const SIGNED_FIELD: Rule = rule(
    "Trường chữ ký còn trống được ký",
    "an empty signature field was signed",
);
pub const SIGNATURE: Rule = rule(
    "Chữ ký hoặc dấu thời gian tài liệu mới",
    "a later signature or document timestamp",
);
pub const FIELD_FILLED: Rule = rule("Điền giá trị vào trường biểu mẫu", "form field filled in");
pub const FIELD_FLAGS: Rule = rule(
    "Cờ của trường biểu mẫu (/Ff) được cập nhật",
    "form field flags (/Ff) updated",
);
pub const APPEARANCE: Rule = rule(
    "Hình hiển thị của trường vừa điền hoặc vừa ký được cập nhật",
    "appearance of a field just filled or signed updated",
);
pub const PAGE_WIDGET: Rule = rule(
    "Trang: gắn ô chữ ký mới vào danh sách chú thích",
    "page: new signature widget added to its annotations",
);
pub const ANNOTATION: Rule = rule(
    "Chú thích (ghi chú, đánh dấu, liên kết) được thêm, sửa hoặc xóa",
    "annotation (comment, markup, link) added, changed or removed",
);
pub const TAGGED: Rule = rule(
    "Cây cấu trúc (tài liệu có thẻ) ghi nhận ô chữ ký mới",
    "structure tree (tagged PDF) records the new signature widget",
);
pub const ORPHAN: Rule = rule(
    "Đối tượng mới không được dùng ở đâu trong tài liệu",
    "new object that nothing in the document uses",
);

// Disallowed.
pub const UNEXPLAINED: Rule = rule(
    "Nội dung đã ký bị sửa mà không quy tắc nào cho phép",
    "signed content changed and no rule allows it",
);
pub const ALSO_USED: Rule = rule(
    "Đối tượng bị ghi đè còn được dùng ở chỗ khác trong bản đã ký",
    "an overwritten object is also used elsewhere in the signed revision",
);
pub const CATALOG_CHANGED: Rule = rule(
    "Danh mục tài liệu bị sửa ngoài biểu mẫu và DSS (trang, mục lục, quyền hạn...)",
    "catalog changed beyond the form and DSS (pages, outlines, permissions...)",
);
pub const CLOBBER: Rule = rule(
    "Tham chiếu mới trỏ vào một đối tượng đã có của bản đã ký",
    "an update reuses an object of the signed revision",
);
pub const FIELD_REMOVED: Rule = rule("Trường biểu mẫu bị xóa", "form field removed");
pub const FIELD_ADDED: Rule = rule(
    "Thêm trường biểu mẫu không phải trường chữ ký",
    "non-signature form field added",
);
pub const FIELD_CHANGED: Rule = rule(
    "Trường biểu mẫu bị sửa ngoài giá trị và hình hiển thị",
    "form field changed beyond its value and appearance",
);
pub const SIGNATURE_REPLACED: Rule = rule(
    "Chữ ký đã có bị thay thế hoặc sửa",
    "an existing signature was replaced or changed",
);
pub const SHARED_APPEARANCE: Rule = rule(
    "Hình hiển thị dùng chung với đối tượng khác bị thay",
    "an appearance shared with other objects was replaced",
);
pub const WIDGET_UNKNOWN: Rule = rule(
    "Thêm ô biểu mẫu (widget) không thuộc trường nào",
    "widget annotation added without a form field",
);
pub const WIDGET_REMOVED: Rule = rule(
    "Ô biểu mẫu bị gỡ khỏi trang",
    "widget annotation removed from a page",
);
pub const PAGE_CHANGED: Rule = rule(
    "Trang hoặc cây trang bị sửa (nội dung, tài nguyên, thứ tự)",
    "page or page tree changed (content, resources, order)",
);
pub const DSS_MALFORMED: Rule = rule("DSS có cấu trúc sai", "DSS malformed");
pub const METADATA_MALFORMED: Rule =
    rule("Siêu dữ liệu mới không phải XMP", "new metadata is not XMP");
pub const REMOVED: Rule = rule("Đối tượng đã ký bị xóa", "signed object removed");
pub const LOCKED: Rule = rule(
    "Trường bị khóa bởi chữ ký (FieldMDP) đã bị sửa",
    "a field locked by the signature (FieldMDP) was changed",
);
pub const DOCMDP: Rule = rule(
    "Thay đổi vượt quá mức chữ ký chứng nhận (DocMDP) cho phép",
    "change beyond what the certification (DocMDP) permits",
);
