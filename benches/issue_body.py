#!/usr/bin/env python3
"""The birth extract the load scripts issue (B-B, 99001's civil-status officer signing and its
agency sealing), as a POST /api/v1/extracts body with the PINs of the dev manifest
(`certs/dev/manifest.json` under the current folder), printed as JSON.

    python3 benches/issue_body.py > issue.json
"""

import json


def body():
    signers = json.load(open("certs/dev/manifest.json"))["signers"]
    pin = {s["id"]: s["pin"] for s in signers}
    agency = next(s["id"] for s in signers if s["commune"] == "99001" and s["kind"] == "agency")
    place = "phường Thành Đông, thành phố Hải Phòng"
    parent = {"ethnicity": "Kinh", "nationality": "Việt Nam",
              "residence": f"Số 12 ngõ 34 đường Lạch Tray, {place}"}
    return {
        "kind": "birth", "commune": "99001", "signer": "99001-civil-status", "level": "B-B",
        "pin": pin["99001-civil-status"], "agency_pin": pin[agency],
        "register": {"book": "01/2026", "number": "125", "date": "2026-03-10",
                     "authority": f"Ủy ban nhân dân {place}"},
        "child": {"full_name": "Nguyễn Thị Ánh Tuyết", "sex": "Nữ", "date_of_birth": "2026-03-05",
                  "place_of_birth": "Bệnh viện Phụ sản Hải Phòng",
                  "home_town": "Xã An Hưng, thành phố Hải Phòng", "ethnicity": "Kinh",
                  "nationality": "Việt Nam", "personal_id": "031326001234"},
        "mother": {"full_name": "Trần Thị Hồng Nhung", "year_of_birth": 1995, **parent},
        "father": {"full_name": "Nguyễn Văn Đức", "year_of_birth": 1992, **parent},
    }


if __name__ == "__main__":
    print(json.dumps(body(), ensure_ascii=False))
