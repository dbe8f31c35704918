"""`/composite`, `/composite/batch`, `/composite/graph` and `/composite/tree`, over HTTPS.

Each status and code below follows the REST API Developer Guide section named next to it.
"""

from __future__ import annotations

from typing import Any

from simple_salesforce import Salesforce

from sfemulator import Emulator

from .conftest import Api, error_of

V = "/services/data/v59.0"
ROLLED_BACK = [{"errorCode": "PROCESSING_HALTED", "message": "The transaction was rolled back "
                "since another operation in the same transaction failed."}]


def _node(reference_id: str, method: str, url: str, body: Any = None) -> dict[str, Any]:
    node = {"method": method, "url": V + url, "referenceId": reference_id}
    return {**node, "body": body} if body is not None else node


def test_composite_references_between_subrequests(sf: Salesforce, org: Emulator) -> None:
    # "Composite": "@{refAccount.id}" in a later body; the call counts once toward the limits.
    org.control.clear_counters()
    reply = sf.restful("composite", method="POST", json={"compositeRequest": [
        _node("refAccount", "POST", "/sobjects/Account", {"Name": "Acme"}),
        _node("refContact", "POST", "/sobjects/Contact",
              {"LastName": "Smith", "AccountId": "@{refAccount.id}"}),
        _node("readBack", "GET", "/sobjects/Contact/@{refContact.id}?fields=AccountId"),
        _node("query", "GET", "/query/?q=SELECT+Id+FROM+Account"),
        _node("renamed", "PATCH", "/sobjects/Account/@{query.records[0].Id}", {"Name": "Acme 2"}),
    ]})["compositeResponse"]
    account_id = reply[0]["body"]["id"]
    assert [r["httpStatusCode"] for r in reply] == [201, 201, 200, 200, 204]
    assert [r["referenceId"] for r in reply] == ["refAccount", "refContact", "readBack",
                                                 "query", "renamed"]
    # "Composite Subrequest Result": a create carries its Location header, a 204 no body.
    assert reply[0]["httpHeaders"] == {"Location": f"{V}/sobjects/Account/{account_id}"}
    assert reply[2]["body"]["AccountId"] == account_id and reply[4]["body"] is None
    assert org.control.counters() == {"composite": 1}
    assert sf.Account.get(account_id)["Name"] == "Acme 2"


def test_composite_all_or_none_rolls_back(sf: Salesforce) -> None:
    # "Composite Subrequest Result": with allOrNone, the failed subrequest keeps its error and
    # every other one answers 400 PROCESSING_HALTED; nothing is written.
    reply = sf.restful("composite", method="POST", json={"allOrNone": True, "compositeRequest": [
        _node("a", "POST", "/sobjects/Account", {"Name": "Kept?"}),
        _node("c", "POST", "/sobjects/Contact", {"FirstName": "no last name"}),
        _node("d", "POST", "/sobjects/Account", {"Name": "Never run"}),
    ]})["compositeResponse"]
    assert [r["httpStatusCode"] for r in reply] == [400, 400, 400]
    assert reply[0]["body"] == ROLLED_BACK and reply[2]["body"] == ROLLED_BACK
    assert reply[1]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0


def test_composite_without_all_or_none_halts_only_dependents(sf: Salesforce) -> None:
    # "Composite": a reference to a failed subrequest answers PROCESSING_HALTED
    # "Invalid reference specified"; independent subrequests still run.
    reply = sf.restful("composite", method="POST", json={"compositeRequest": [
        _node("bad", "POST", "/sobjects/Account", {"Name": None}),
        _node("child", "POST", "/sobjects/Contact", {"LastName": "X", "AccountId": "@{bad.id}"}),
        _node("free", "POST", "/sobjects/Account", {"Name": "Independent"}),
    ]})["compositeResponse"]
    assert [r["httpStatusCode"] for r in reply] == [400, 400, 201]
    assert reply[1]["body"] == [{"errorCode": "PROCESSING_HALTED", "message":
                                 "Invalid reference specified. No value for bad.id found in bad"}]
    assert sf.query("SELECT Name FROM Account")["records"][0]["Name"] == "Independent"


def test_composite_limits_and_shape(api: Api) -> None:
    # "Composite": at most 25 subrequests ("The request can't contain more than 25 operations.");
    # a subrequest without referenceId is a 400 JSON_PARSER_ERROR before anything runs.
    nodes = [_node(f"r{i}", "GET", "/limits") for i in range(26)]
    reply = api("POST", "composite", json={"compositeRequest": nodes})
    assert reply.status_code == 200
    [entry] = reply.json()["compositeResponse"]
    assert (entry["httpStatusCode"], entry["body"][0]["errorCode"]) == (400, "LIMIT_EXCEEDED")
    missing = api("POST", "composite", json={"compositeRequest": [
        {"method": "GET", "url": V + "/limits"}]})
    assert error_of(missing) == (400, "JSON_PARSER_ERROR", "'referenceId' is a required field.")


def test_batch_halt_on_error(sf: Salesforce, api: Api) -> None:
    # "Composite Batch": results in order; with haltOnError every subrequest after a failure
    # answers 412 BATCH_PROCESSING_HALTED and hasErrors is true; the call itself is 200.
    contact_id = sf.Contact.create({"LastName": "B"})["id"]
    body = {"haltOnError": True, "batchRequests": [
        {"method": "PATCH", "url": f"v59.0/sobjects/Contact/{contact_id}",
         "richInput": {"Title": "CEO"}},
        {"method": "GET", "url": "v59.0/sobjects/Contact/003000000000000AAA"},
        {"method": "GET", "url": f"v59.0/sobjects/Contact/{contact_id}?fields=Title"},
    ]}
    reply = api("POST", "composite/batch", json=body)
    assert reply.status_code == 200
    data = reply.json()
    assert data["hasErrors"] is True
    assert [r["statusCode"] for r in data["results"]] == [204, 404, 412]
    assert data["results"][2]["result"][0]["errorCode"] == "BATCH_PROCESSING_HALTED"
    body["haltOnError"] = False
    results = api("POST", "composite/batch", json=body).json()["results"]
    assert results[2]["result"]["Title"] == "CEO"
    too_many = {"batchRequests": [{"method": "GET", "url": "v59.0/limits"}] * 26}
    assert error_of(api("POST", "composite/batch", json=too_many))[:2] == (400, "LIMIT_EXCEEDED")


def test_graph_each_graph_all_or_nothing(sf: Salesforce, api: Api) -> None:
    # "Composite Graph": each graph commits or rolls back alone; isSuccessful per graph.
    good = {"graphId": "g1", "compositeRequest": [
        _node("acc", "POST", "/sobjects/Account", {"Name": "Graph Co"}),
        _node("con", "POST", "/sobjects/Contact", {"LastName": "G", "AccountId": "@{acc.id}"})]}
    bad = {"graphId": "g2", "compositeRequest": [
        _node("acc", "POST", "/sobjects/Account", {"Name": "Rolled back"}),
        _node("con", "POST", "/sobjects/Contact", {"AccountId": "@{acc.id}"})]}
    reply = api("POST", "composite/graph", json={"graphs": [good, bad]})
    assert reply.status_code == 200
    graphs = reply.json()["graphs"]
    assert [(g["graphId"], g["isSuccessful"]) for g in graphs] == [("g1", True), ("g2", False)]
    failed = graphs[1]["graphResponse"]["compositeResponse"]
    assert failed[0]["body"] == ROLLED_BACK
    assert failed[1]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert [r["Name"] for r in sf.query("SELECT Name FROM Account")["records"]] == ["Graph Co"]
    # "Composite Graph Limits": at most 500 nodes in one payload.
    nodes = [_node(f"n{i}", "GET", "/limits") for i in range(501)]
    too_big = api("POST", "composite/graph", json={"graphs": [
        {"graphId": "big", "compositeRequest": nodes}]})
    assert error_of(too_big)[:2] == (400, "LIMIT_EXCEEDED")


def _tree_account(ref: str, name: str, *contacts: dict[str, Any]) -> dict[str, Any]:
    record = {"attributes": {"type": "Account", "referenceId": ref}, "Name": name}
    if contacts:
        record["Contacts"] = {"records": list(contacts)}
    return record


def _tree_contact(ref: str, **fields: Any) -> dict[str, Any]:
    return {"attributes": {"type": "Contact", "referenceId": ref}, **fields}


def test_tree_creates_parents_then_children(sf: Salesforce, api: Api) -> None:
    # "sObject Tree Response Body": 201, roots first then each level, every referenceId an id.
    reply = api("POST", "composite/tree/Account", json={"records": [
        _tree_account("ref1", "Tree One", _tree_contact("ref2", LastName="A"),
                      _tree_contact("ref3", LastName="B")),
        _tree_account("ref4", "Tree Two")]})
    assert reply.status_code == 201
    data = reply.json()
    assert data["hasErrors"] is False
    assert [r["referenceId"] for r in data["results"]] == ["ref1", "ref4", "ref2", "ref3"]
    ids = {r["referenceId"]: r["id"] for r in data["results"]}
    rows = sf.query("SELECT LastName, AccountId FROM Contact ORDER BY LastName")["records"]
    assert [(r["LastName"], r["AccountId"]) for r in rows] == [("A", ids["ref1"]),
                                                              ("B", ids["ref1"])]


def test_tree_fails_whole_request(sf: Salesforce, api: Api) -> None:
    # "sObject Tree": any error fails the request (400) and names only the failed record.
    reply = api("POST", "composite/tree/Account", json={"records": [
        _tree_account("ok", "Fine", _tree_contact("broken", LastName="X", Email="not-an-email"))]})
    assert reply.status_code == 400
    assert reply.json() == {"hasErrors": True, "results": [{"referenceId": "broken", "errors": [{
        "statusCode": "INVALID_EMAIL_ADDRESS", "message": "Email: invalid email address: "
        "not-an-email", "fields": ["Email"]}]}]}
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0
    # "sObject Tree": up to 200 records across all trees.
    many = [_tree_account(f"r{i}", f"A{i}") for i in range(201)]
    assert api("POST", "composite/tree/Account", json={"records": many}).status_code == 400
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0
