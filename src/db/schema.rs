// @generated automatically by Diesel CLI.

diesel::table! {
    api_clients (id) {
        id -> Text,
        key_hash -> Text,
        role -> Text,
        commune_code -> Nullable<Text>,
        label -> Text,
        created_at -> Text,
        expires_at -> Nullable<Text>,
        revoked_at -> Nullable<Text>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        actor -> Text,
        action -> Text,
        entity -> Text,
        entity_id -> Text,
        before_json -> Nullable<Text>,
        after_json -> Nullable<Text>,
        created_at -> Text,
    }
}

diesel::table! {
    blobs (key) {
        key -> Text,
        data -> Binary,
        created_at -> Text,
    }
}

diesel::table! {
    certificates (id) {
        id -> Text,
        official_id -> Text,
        serial -> Text,
        issuer -> Text,
        subject -> Text,
        uids -> Text,
        not_before -> Text,
        not_after -> Text,
        key_usage -> Text,
        fingerprint -> Text,
        pem -> Text,
        revoked_at -> Nullable<Text>,
        revocation_reason -> Nullable<Text>,
        replaces_certificate_id -> Nullable<Text>,
        created_at -> Text,
        trusted -> Bool,
    }
}

diesel::table! {
    communes (code) {
        code -> Text,
        name -> Text,
        kind -> Text,
        province -> Text,
        demo -> Bool,
        created_at -> Text,
    }
}

diesel::table! {
    documents (id) {
        id -> Text,
        kind -> Text,
        commune_code -> Text,
        book_id -> Text,
        year -> Integer,
        number -> Integer,
        number_label -> Text,
        book_label -> Text,
        lookup_code -> Text,
        official_id -> Text,
        agency_id -> Nullable<Text>,
        state -> Text,
        sha256 -> Text,
        size -> BigInt,
        blob_key -> Text,
        client_id -> Nullable<Text>,
        idempotency_key -> Nullable<Text>,
        request_sha256 -> Text,
        created_at -> Text,
        sealed_at -> Nullable<Text>,
        archive_expires_at -> Nullable<Text>,
    }
}

diesel::table! {
    issuance_requests (id) {
        id -> Text,
        commune_code -> Text,
        official_id -> Text,
        kind -> Text,
        form -> Text,
        state -> Text,
        note -> Text,
        certificate_id -> Nullable<Text>,
        submitted_at -> Nullable<Text>,
        received_at -> Nullable<Text>,
        closed_at -> Nullable<Text>,
        created_at -> Text,
        updated_at -> Text,
    }
}

diesel::table! {
    numbering_books (id) {
        id -> Text,
        commune_code -> Text,
        kind -> Text,
        year -> Integer,
        next_number -> Integer,
        created_at -> Text,
    }
}

diesel::table! {
    officials (id) {
        id -> Text,
        commune_code -> Text,
        kind -> Text,
        name -> Text,
        personal_id -> Nullable<Text>,
        tax_code -> Nullable<Text>,
        position -> Text,
        active -> Bool,
        created_at -> Text,
        updated_at -> Text,
    }
}

diesel::table! {
    request_events (id) {
        id -> Text,
        request_id -> Text,
        seq -> Integer,
        actor -> Text,
        from_state -> Nullable<Text>,
        to_state -> Text,
        note -> Text,
        created_at -> Text,
    }
}

diesel::table! {
    sessions (id_hash) {
        id_hash -> Text,
        client_id -> Text,
        created_at -> Text,
        expires_at -> Text,
    }
}

diesel::table! {
    signers (id) {
        id -> Text,
        kind -> Text,
        commune_code -> Text,
        name -> Text,
        title -> Text,
        certificate_pem -> Text,
        cert_serial -> Text,
        not_before -> Text,
        not_after -> Text,
        key_ref -> Text,
        dev -> Bool,
        pin_claims -> Integer,
        locked_until -> Nullable<Text>,
        created_at -> Text,
        pin_window_start -> Nullable<Text>,
        wrong_pins -> Integer,
    }
}

diesel::table! {
    signing_log (id) {
        id -> Text,
        signer_id -> Nullable<Text>,
        client_id -> Nullable<Text>,
        commune_code -> Text,
        level -> Text,
        input_sha256 -> Text,
        output_sha256 -> Text,
        created_at -> Text,
        certificate_id -> Nullable<Text>,
        session_id -> Nullable<Text>,
    }
}

diesel::table! {
    signing_sessions (id) {
        id -> Text,
        client_id -> Text,
        commune_code -> Text,
        certificate_id -> Text,
        level -> Text,
        state -> Text,
        prepared_pdf -> Binary,
        original_len -> BigInt,
        contents_start -> BigInt,
        contents_end -> BigInt,
        to_sign -> Binary,
        created_at -> Text,
        expires_at -> Text,
        finished_at -> Nullable<Text>,
        document_kind -> Nullable<Text>,
        book_id -> Nullable<Text>,
        number -> Nullable<Integer>,
        number_label -> Nullable<Text>,
        book_label -> Nullable<Text>,
        lookup_code -> Nullable<Text>,
        signer_id -> Nullable<Text>,
        request_sha256 -> Nullable<Text>,
        document_id -> Nullable<Text>,
    }
}

diesel::table! {
    void_numbers (book_id, number) {
        book_id -> Text,
        number -> Integer,
        number_label -> Text,
        reason -> Text,
        session_id -> Nullable<Text>,
        created_at -> Text,
    }
}

diesel::joinable!(api_clients -> communes (commune_code));
diesel::joinable!(certificates -> officials (official_id));
diesel::joinable!(documents -> api_clients (client_id));
diesel::joinable!(documents -> communes (commune_code));
diesel::joinable!(documents -> numbering_books (book_id));
diesel::joinable!(issuance_requests -> certificates (certificate_id));
diesel::joinable!(issuance_requests -> communes (commune_code));
diesel::joinable!(issuance_requests -> officials (official_id));
diesel::joinable!(numbering_books -> communes (commune_code));
diesel::joinable!(officials -> communes (commune_code));
diesel::joinable!(request_events -> issuance_requests (request_id));
diesel::joinable!(sessions -> api_clients (client_id));
diesel::joinable!(signers -> communes (commune_code));
diesel::joinable!(signing_log -> api_clients (client_id));
diesel::joinable!(signing_log -> certificates (certificate_id));
diesel::joinable!(signing_log -> signers (signer_id));
diesel::joinable!(signing_log -> signing_sessions (session_id));
diesel::joinable!(signing_sessions -> api_clients (client_id));
diesel::joinable!(signing_sessions -> certificates (certificate_id));
diesel::joinable!(signing_sessions -> communes (commune_code));
diesel::joinable!(signing_sessions -> numbering_books (book_id));
diesel::joinable!(signing_sessions -> signers (signer_id));
diesel::joinable!(void_numbers -> numbering_books (book_id));
diesel::joinable!(void_numbers -> signing_sessions (session_id));

diesel::allow_tables_to_appear_in_same_query!(
    api_clients,
    audit_log,
    blobs,
    certificates,
    communes,
    documents,
    issuance_requests,
    numbering_books,
    officials,
    request_events,
    sessions,
    signers,
    signing_log,
    signing_sessions,
    void_numbers,
);
