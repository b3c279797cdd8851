// The tables of migrations/{sqlite,postgres}; kept in SQL types both backends share.

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
        failed_pins -> Integer,
        locked_until -> Nullable<Text>,
        created_at -> Text,
    }
}

diesel::table! {
    api_clients (id) {
        id -> Text,
        key_hash -> Text,
        role -> Text,
        commune_code -> Nullable<Text>,
        label -> Text,
        created_at -> Text,
    }
}

diesel::table! {
    signing_log (id) {
        id -> Text,
        signer_id -> Text,
        client_id -> Nullable<Text>,
        commune_code -> Text,
        level -> Text,
        input_sha256 -> Text,
        output_sha256 -> Text,
        created_at -> Text,
    }
}

diesel::joinable!(signers -> communes (commune_code));
diesel::joinable!(signing_log -> signers (signer_id));
diesel::allow_tables_to_appear_in_same_query!(communes, signers, api_clients, signing_log);
