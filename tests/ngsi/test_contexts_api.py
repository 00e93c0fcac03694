def test_jsonld_contexts_api(client):
    r = client.post("jsonldContexts", json={"@context": {"foo": "http://foo.org/foo"}})
    assert r.status_code == 201
    loc = r.headers["location"]
    cid = loc.rsplit("/", 1)[1]
    r = client.get("jsonldContexts/" + cid)
    assert r.json() == {"@context": {"foo": "http://foo.org/foo"}}
    r = client.get("jsonldContexts/" + cid, params={"details": "true"})
    assert r.json()["kind"] == "Hosted" and r.json()["localId"] == cid
    urls = client.get("jsonldContexts").json()
    assert any(u.endswith(cid) for u in urls)
    hosted = client.get("jsonldContexts", params={"kind": "Hosted", "details": "true"}).json()
    assert [h["localId"] for h in hosted] == [cid]
    # use it as a Link context
    link = f'<{"http://testserver" + loc}>; rel="http://www.w3.org/ns/json-ld#context"'
    r = client.post(
        "entities", json={"id": "urn:x:1", "type": "T", "foo": 1}, headers={"Link": link}
    )
    assert r.status_code == 201, r.text
    assert "http://foo.org/foo" in client.get("entities/urn:x:1").json()
    assert "lastUsage" in client.get("jsonldContexts/" + cid, params={"details": "true"}).json()
    assert client.delete("jsonldContexts/" + cid, params={"reload": "true"}).status_code == 400
    assert client.delete("jsonldContexts/" + cid).status_code == 204
    assert client.get("jsonldContexts/" + cid).status_code == 404
    assert client.delete("jsonldContexts/" + cid).status_code == 404
    r = client.post("jsonldContexts", json={"nocontext": 1})
    assert r.status_code == 400 and r.json()["type"].endswith("InvalidRequest")
    assert client.get("jsonldContexts", params={"kind": "hosted"}).status_code == 200
    assert client.get("jsonldContexts", params={"kind": "other"}).status_code == 400
    assert client.get("jsonldContexts", params={"bogus": "1"}).status_code == 400
    core = "https%3A%2F%2Furi.etsi.org%2Fngsi-ld%2Fv1%2Fngsi-ld-core-context-v1.9.jsonld"
    assert client.delete("jsonldContexts/" + core).status_code == 400
    assert client.get("jsonldContexts/" + core).status_code == 200
