//! What a result means for the person holding the document, in Vietnamese and English.

use super::report::{Explanation, Indication, SignatureReport, SubIndication};

fn text(vi: impl Into<String>, en: impl Into<String>) -> Explanation {
    Explanation {
        vi: vi.into(),
        en: en.into(),
    }
}

/// The verdict, then, for a signature judged in the past, at which time and on what proof.
pub fn signature(sig: &SignatureReport) -> Explanation {
    let mut explanation = verdict(sig);
    let proof = sig.validated_at.as_ref().and_then(|v| {
        let proof = v.proof.as_ref()?;
        let by = match (proof.source, &proof.field) {
            ("document_timestamp", Some(field)) => (
                format!("dấu thời gian tài liệu {field}"),
                format!("document timestamp {field}"),
            ),
            _ => (
                "dấu thời gian của chữ ký".into(),
                "signature timestamp".into(),
            ),
        };
        Some((v.basis, crate::vietnam::rfc3339(&proof.time), by))
    });
    match (sig.indication, proof) {
        (Indication::TotalPassed, Some(("proof_of_existence", time, (by_vi, by_en)))) => {
            explanation.vi += &format!(" Chứng thư số nay không còn hiệu lực, nên được kiểm tra tại thời điểm {time}: {by_vi} chứng minh chữ ký đã tồn tại khi đó, và dữ liệu kiểm tra trong tệp cho thấy chứng thư chưa bị thu hồi.");
            explanation.en += &format!(" The certificate is no longer valid, so it was checked at {time}: the {by_en} proves the signature existed then, and the validation data in the file shows the certificate was not revoked.");
        }
        (_, Some(("proof_of_existence", time, (by_vi, by_en))))
            if sig.sub_indication == Some(SubIndication::OutOfBoundsNoPoe) =>
        {
            explanation.vi = format!("CHƯA XÁC ĐỊNH: chứng thư số nay đã hết hạn. Theo {by_vi}, chữ ký đã tồn tại lúc {time}, nhưng tệp không chứa dữ liệu thu hồi (CRL, OCSP) cho thấy chứng thư chưa bị thu hồi vào lúc đó; chữ ký PAdES B-LT hoặc B-LTA mới giữ được dữ liệu này.");
            explanation.en = format!("INDETERMINATE: the certificate has expired. The {by_en} proves the signature existed at {time}, but the file holds no revocation data (CRL, OCSP) showing the certificate was not revoked then; PAdES B-LT or B-LTA signatures keep that data.");
        }
        _ => {}
    }
    explanation
}

fn verdict(sig: &SignatureReport) -> Explanation {
    use SubIndication::*;
    let who = sig
        .signer
        .as_ref()
        .and_then(|s| s.common_name.clone())
        .unwrap_or_else(|| "người ký".into());
    match (sig.indication, sig.sub_indication) {
        (Indication::TotalPassed, _) if sig.kind == "document_timestamp" => text(
            format!("Dấu thời gian tài liệu của {who} hợp lệ: chứng minh tài liệu và dữ liệu kiểm tra chữ ký đã tồn tại vào thời điểm đó."),
            format!("The document timestamp of {who} is valid: it proves the document and its validation data existed at that time."),
        ),
        (Indication::TotalPassed, _) if sig.coverage.later_changes.is_empty() => text(
            format!("Chữ ký của {who} hợp lệ: chứng thư số được tin cậy và tài liệu không bị thay đổi kể từ khi ký."),
            format!("The signature of {who} is valid: the certificate is trusted and the document has not changed since it was signed."),
        ),
        (Indication::TotalPassed, _) => {
            let (vi, en) = sig.coverage.modification_level.describe();
            text(
                format!("Chữ ký của {who} hợp lệ. Sau khi ký, tài liệu chỉ có những thay đổi được phép ({vi}); nội dung đã ký không bị sửa."),
                format!("The signature of {who} is valid. After signing, only allowed changes were made ({en}); the signed content is unchanged."),
            )
        }
        (_, Some(FormatFailure)) if sig.coverage.later_changes.iter().any(|c| !c.allowed) => text(
            "KHÔNG HỢP LỆ: tài liệu đã bị sửa nội dung sau khi ký (trang, phông chữ, hình ảnh hoặc chú thích). Không sử dụng bản này; hãy yêu cầu bản gốc từ cơ quan ban hành.",
            "NOT VALID: the document's content was changed after signing (pages, fonts, images or annotations). Do not rely on this copy; ask the issuing authority for the original.",
        ),
        (_, Some(FormatFailure)) => text(
            "KHÔNG HỢP LỆ: cấu trúc chữ ký bị sai hoặc bị làm giả (vùng dữ liệu được ký không đúng).",
            "NOT VALID: the signature's structure is broken or forged (the signed byte ranges are wrong).",
        ),
        (_, Some(HashFailure)) => text(
            "KHÔNG HỢP LỆ: nội dung tài liệu không khớp với chữ ký — tài liệu đã bị sửa đổi.",
            "NOT VALID: the document's content does not match the signature — it has been altered.",
        ),
        (_, Some(SigCryptoFailure)) => text(
            "KHÔNG HỢP LỆ: giá trị chữ ký không khớp với khóa công khai của chứng thư số.",
            "NOT VALID: the signature value does not match the certificate's public key.",
        ),
        (_, Some(Revoked)) => text(
            "KHÔNG HỢP LỆ: chứng thư số đã bị thu hồi trước thời điểm ký.",
            "NOT VALID: the certificate was revoked before the signing time.",
        ),
        (_, Some(Expired)) => text(
            "KHÔNG HỢP LỆ: chứng thư số đã hết hạn tại thời điểm ký.",
            "NOT VALID: the certificate had expired at the signing time.",
        ),
        (_, Some(NotYetValid)) => text(
            "KHÔNG HỢP LỆ: chứng thư số chưa có hiệu lực tại thời điểm ký.",
            "NOT VALID: the certificate was not yet valid at the signing time.",
        ),
        (_, Some(NoCertificateChainFound)) => text(
            "CHƯA XÁC ĐỊNH: chứng thư số không thuộc tổ chức cung cấp dịch vụ chứng thực được tin cậy. Không thể xác nhận người ký.",
            "INDETERMINATE: the certificate does not chain to a trusted certification authority. The signer cannot be confirmed.",
        ),
        (_, Some(OutOfBoundsNoPoe)) => text(
            "CHƯA XÁC ĐỊNH: chứng thư số nay đã hết hạn và chữ ký không có dấu thời gian chứng minh được ký khi chứng thư còn hiệu lực.",
            "INDETERMINATE: the certificate has expired and no timestamp proves the signature was made while it was valid.",
        ),
        (_, Some(RevokedNoPoe)) => text(
            "CHƯA XÁC ĐỊNH: chứng thư số đã bị thu hồi và không có dấu thời gian chứng minh chữ ký được tạo trước khi thu hồi.",
            "INDETERMINATE: the certificate is revoked and no timestamp proves the signature predates the revocation.",
        ),
        (_, Some(NoSigningCertificateFound)) => text(
            "CHƯA XÁC ĐỊNH: chữ ký không kèm chứng thư số của người ký.",
            "INDETERMINATE: the signature does not carry the signer's certificate.",
        ),
        (_, Some(SigConstraintsFailure)) => text(
            "CHƯA XÁC ĐỊNH: chứng thư số không được phép dùng để ký (mục đích sử dụng khóa).",
            "INDETERMINATE: the certificate's key usage does not allow signing.",
        ),
        (_, _) => text(
            "CHƯA XÁC ĐỊNH: không kiểm tra được chuỗi chứng thư số.",
            "INDETERMINATE: the certificate chain could not be validated.",
        ),
    }
}

pub fn summary(signatures: &[SignatureReport], indication: Indication) -> Explanation {
    let n = signatures.iter().filter(|s| s.kind == "signature").count();
    let stamps = signatures.len() - n;
    let mut summary = verdict_of_all(n, indication);
    if stamps > 0 && n > 0 && indication == Indication::TotalPassed {
        summary.vi += &format!(" Tài liệu có {stamps} dấu thời gian lưu trữ (PAdES B-LTA) hợp lệ, giữ cho chữ ký kiểm tra được lâu dài.");
        summary.en += &format!(" It carries {stamps} valid archive timestamp(s) (PAdES B-LTA) that keep the signatures verifiable in the long term.");
    }
    summary
}

fn verdict_of_all(n: usize, indication: Indication) -> Explanation {
    match indication {
        _ if n == 0 => text("Tài liệu không có chữ ký số.", "The document has no digital signature."),
        Indication::TotalPassed if n == 1 => text(
            "Chữ ký số hợp lệ. Tài liệu là bản đã được ký, không bị sửa đổi.",
            "The signature is valid. The document is as signed, without alterations.",
        ),
        Indication::TotalPassed => text(
            format!("Cả {n} chữ ký đều hợp lệ. Tài liệu là bản đã được ký, không bị sửa đổi."),
            format!("All {n} signatures are valid. The document is as signed, without alterations."),
        ),
        Indication::TotalFailed => text(
            "Tài liệu KHÔNG HỢP LỆ: có chữ ký sai hoặc tài liệu đã bị sửa sau khi ký. Không sử dụng bản này.",
            "The document is NOT VALID: a signature failed or the document was altered after signing. Do not rely on it.",
        ),
        Indication::Indeterminate => text(
            "Chưa xác định được tính hợp lệ của tài liệu: xem chi tiết từng chữ ký.",
            "The document's validity could not be established: see each signature.",
        ),
    }
}
