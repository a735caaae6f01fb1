"""The seed's story through the Python client that openapi-python-client generated from
openapi.yaml (Tests/e2e/python-client.sh): bob exports an object to alice, abandons it,
alice's send is rejected with Error("vat terminated"), she drops it, the orphan is retired and
bob hears nothing more. Exact states at each step; the first difference fails the run.

    python3 python_client_story.py URL      # vatkernel_client importable
"""
import sys

from vatkernel_client import AuthenticatedClient, Client
from vatkernel_client.api.host import get_object, list_objects, send_message
from vatkernel_client.api.kernel import get_kernel
from vatkernel_client.api.vat_side import get_deliveries, post_syscalls
from vatkernel_client.api.vats import create_vat, get_c_list
from vatkernel_client.models import (
    AbandonExportsSyscall, CreatedVat, CreateVatRequest, DropImportsSyscall, Error, MethargsK,
    MethargsV, ObjectDetail, SendRequest, SendSyscall, SubscribeSyscall, SyscallBatch, SyscallsRan,
)

url = sys.argv[1]
host = Client(base_url=url, raise_on_unexpected_status=True)
passed = failed = 0


def check(what, expected, actual):
    global passed, failed
    if expected == actual:
        passed += 1
        print(f"ok   {what}")
    else:
        failed += 1
        print(f"FAIL {what}\n     expected: {expected!r}\n     actual:   {actual!r}")


def vat(name):
    created = create_vat.sync(client=host, body=CreateVatRequest(name=name))
    assert isinstance(created, CreatedVat), created
    return created, AuthenticatedClient(base_url=url, token=created.token, raise_on_unexpected_status=True)


def syscalls(client, vat_id, *calls):
    answer = post_syscalls.sync(vat_id, client=client, body=SyscallBatch(syscalls=list(calls)))
    return answer.to_dict()


def deliveries(client, vat_id, after):
    page = get_deliveries.sync(vat_id, client=client, after=after)
    return [d.to_dict() for d in page.deliveries]


def clist(vat_id):
    return [e.to_dict() for e in get_c_list.sync(vat_id, client=host).entries]


alice, alice_c = vat("alice")
bob, bob_c = vat("bob")
check("alice and bob, each with a root", ("v1", "ko20", "v2", "ko21"), (alice.vat_id, alice.root_kref, bob.vat_id, bob.root_kref))

sent = send_message.sync(client=host, body=SendRequest(
    target=bob.root_kref, methargs=MethargsK(body=["meet", [{"$slot": 0}]], slots=[alice.root_kref])))
check("the host introduces alice to bob (no result promise)", {"result": None}, sent.to_dict())
meet = deliveries(bob_c, bob.vat_id, 1)
check("bob gets meet(alice) as o-50", [{"seq": 2, "crank": meet[0]["crank"], "type": "message", "target": "o+0",
      "methargs": {"body": ["meet", [{"$slot": 0}]], "slots": ["o-50"]}, "result": None}], meet)

answer = syscalls(bob_c, bob.vat_id, SendSyscall(type_="send", target="o-50",
                  methargs=MethargsV(body=["take", [{"$slot": 0}]], slots=["o+100"])))
check("bob sends alice take(o+100)", {"type": "ran", "results": [None]}, answer)
take = deliveries(alice_c, alice.vat_id, 1)
check("alice gets take(o-50)", [{"seq": 2, "crank": take[0]["crank"], "type": "message", "target": "o+0",
      "methargs": {"body": ["take", [{"$slot": 0}]], "slots": ["o-50"]}, "result": None}], take)
orphan = clist(alice.vat_id)[1]["kref"]
check("alice's c-list: her root and bob's object", [{"kref": "ko20", "vref": "o+0", "reachable": True},
      {"kref": orphan, "vref": "o-50", "reachable": True}], clist(alice.vat_id))
check("bob's c-list: his root, alice's, and his export", [{"kref": "ko20", "vref": "o-50", "reachable": True},
      {"kref": "ko21", "vref": "o+0", "reachable": True}, {"kref": orphan, "vref": "o+100", "reachable": True}], clist(bob.vat_id))

answer = syscalls(bob_c, bob.vat_id, AbandonExportsSyscall(type_="abandonExports", vrefs=["o+100"]))
check("bob abandons o+100", {"type": "ran", "results": [None]}, answer)
detail = get_object.sync(orphan, client=host)
assert isinstance(detail, ObjectDetail), detail
check("the orphan: no owner, alice still reaches it", {"kref": orphan, "owner": None, "reachable": 1, "recognizable": 1, "pins": 0,
      "holders": [{"kind": "importer", "vatID": "v1", "vref": "o-50", "via": None, "reachable": 1, "recognizable": 1}]}, detail.to_dict())
check("GET /objects?owner=none lists it", [{"kref": orphan, "owner": None, "reachable": 1, "recognizable": 1, "pins": 0}],
      [o.to_dict() for o in list_objects.sync(client=host, owner="none").objects])
check("bob's c-list lost o+100", [{"kref": "ko20", "vref": "o-50", "reachable": True}, {"kref": "ko21", "vref": "o+0", "reachable": True}], clist(bob.vat_id))

answer = syscalls(alice_c, alice.vat_id,
                  SendSyscall(type_="send", target="o-50", methargs=MethargsV(body=["ping", []], slots=[]), result="p+1"),
                  SubscribeSyscall(type_="subscribe", vpid="p+1"))
check("alice sends ping() to it and subscribes", {"type": "ran", "results": [None, None]}, answer)
notify = deliveries(alice_c, alice.vat_id, 2)
check("her result is rejected with Error(\"vat terminated\")", [{"seq": 3, "crank": notify[0]["crank"], "type": "notify",
      "resolutions": [{"vpid": "p+1", "rejected": True, "data": {"body": {"$error": "vat terminated", "name": "Error"}, "slots": []}}]}], notify)

answer = syscalls(alice_c, alice.vat_id, DropImportsSyscall(type_="dropImports", vrefs=["o-50"]))
check("alice drops o-50", {"type": "ran", "results": [None]}, answer)
retire = deliveries(alice_c, alice.vat_id, 3)
check("she is told to retire it", [{"seq": 4, "crank": retire[0]["crank"], "type": "retireImports", "vrefs": ["o-50"]}], retire)
gone = get_object.sync(orphan, client=host)
check("the orphan is retired: 404 unknown-kref", ("unknown-kref", {"kref": orphan}),
      (gone.error.code, gone.error.details.to_dict()) if isinstance(gone, Error) else gone)
check("alice's c-list: only her root", [{"kref": "ko20", "vref": "o+0", "reachable": True}], clist(alice.vat_id))
check("bob heard nothing after meet", [], deliveries(bob_c, bob.vat_id, 2))
check("no orphans left", [], list_objects.sync(client=host, owner="none").objects)
summary = get_kernel.sync(client=host)
check("the kernel: idle, two running vats, their two roots, no promise, no GC action",
      (True, 2, 2, 2, 0, 0, {"acceptance": 0, "run": 0, "reap": 0}),
      (summary.idle, summary.vats, summary.running_vats, summary.objects, summary.promises, summary.gc_actions, summary.queues.to_dict()))

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
