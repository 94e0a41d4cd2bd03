"""``spineviewer pacs nodes|echo|query|retrieve|store``: the PACS from the command line.

The node is a configured one (``--node NAME``, see ``pacs nodes``) or given in full: a DIMSE
peer (``--aet --host --port``) or a DICOMweb endpoint (``--url`` with ``--user`` and a password,
or a token; ``SPINEVIEWER_PACS_PASSWORD`` / ``SPINEVIEWER_PACS_TOKEN`` keep them off the
command line). Errors are one line naming the node and what to check; exit status 1.
``pacs nodes`` says where each node's password (or token) is kept: "keyring" (the system
keyring, service ``spineviewer-pacs``, user name the node's name), "file (no keyring backend)"
(the private ``pacs.json``) or "none"; never the secret itself.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from spineviewer import config as settings

if TYPE_CHECKING:  # imported when a command runs: `spineviewer --help` stays fast
    from spineviewer.pacs import LocalAE, Node

__all__ = ["add_node_options", "add_subparser", "node_from_args"]

ENV_PASSWORD = settings.SETTINGS["pacs_password"].env
ENV_TOKEN = settings.SETTINGS["pacs_token"].env


def add_node_options(parser: argparse.ArgumentParser) -> None:
    """The options that name a node (``--node`` or a full description) and our AE."""
    group = parser.add_argument_group("PACS node")
    group.add_argument("--node", help="a configured node (spineviewer pacs nodes)")
    group.add_argument("--aet", help="the PACS's AE title (DIMSE)")
    group.add_argument("--host", help="the PACS's host (DIMSE)")
    group.add_argument("--port", type=int, help="the PACS's DICOM port (DIMSE)")
    group.add_argument("--url", help="DICOMweb base URL (QIDO/WADO/STOW root)")
    group.add_argument("--user", default="", help="DICOMweb basic authentication user")
    group.add_argument("--password", default="", help=f"or ${ENV_PASSWORD}")
    group.add_argument("--token", default="", help=f"DICOMweb bearer token, or ${ENV_TOKEN}")
    group.add_argument(
        "--no-verify-tls",
        action="store_true",
        help="do not check the TLS certificate (test servers only; wins over REQUESTS_CA_BUNDLE)",
    )
    group.add_argument(
        "--ca-bundle",
        default="",
        metavar="PEM",
        help="CA certificates to trust for this node (wins over REQUESTS_CA_BUNDLE)",
    )
    group.add_argument(
        "--timeout", type=float, help="seconds (default: the node's, else 10 DIMSE / 30 web)"
    )
    group.add_argument("--calling-aet", help="our AE title (default: the configured one)")
    group.add_argument("--local-port", type=int, help="our storage port for C-MOVE")


def _local(args: argparse.Namespace, configured: LocalAE) -> LocalAE:
    """Our AE: --calling-aet / --local-port over the configured one."""
    from spineviewer.pacs import LocalAE

    if not (args.calling_aet or args.local_port):
        return configured
    return LocalAE(args.calling_aet or configured.ae_title, args.local_port or configured.port)


def node_from_args(args: argparse.Namespace) -> tuple[Node, LocalAE]:
    """(node, our LocalAE) from the options; PacsError when they do not name one."""
    from dataclasses import replace

    from spineviewer.pacs import DicomWebNode, DimseNode, PacsError, load_config

    config = load_config()
    local = _local(args, config.local)
    bundle = str(Path(args.ca_bundle).expanduser().resolve()) if args.ca_bundle else ""
    if bundle and not Path(bundle).is_file():
        raise PacsError(f"--ca-bundle {args.ca_bundle}: no such file")
    node: Node
    if args.node:
        node = config.node(args.node)
        if isinstance(node, DicomWebNode):  # this command's TLS options over the saved ones
            if args.no_verify_tls:
                node = replace(node, verify_tls=False)
            if bundle:
                node = replace(node, ca_bundle=bundle)
    elif args.url:
        given = settings.load()
        password = args.password or given.pacs_password
        token = args.token or given.pacs_token
        auth = "bearer" if token else ("basic" if args.user else "none")
        node = DicomWebNode("command line", args.url, auth, args.user, password, token,
                            not args.no_verify_tls, ca_bundle=bundle)  # fmt: skip
    elif args.aet and args.host and args.port:
        node = DimseNode("command line", args.aet, args.host, args.port)
    else:
        raise PacsError("name a node: --node NAME, or --aet --host --port, or --url")
    return (replace(node, timeout_s=args.timeout) if args.timeout else node), local


def add_subparser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "pacs",
        help="query, retrieve and store with a PACS (DIMSE or DICOMweb)",
        description=(
            "Query, retrieve and store with a PACS. Name the node with --node NAME (see "
            "'pacs nodes'), or give a DIMSE peer (--aet --host --port) or a DICOMweb endpoint "
            f"(--url, with --user and a password or a token; ${ENV_PASSWORD} / ${ENV_TOKEN} "
            "keep them off the command line)."
        ),
    )
    commands = parser.add_subparsers(dest="pacs_command", metavar="ACTION", required=True)

    nodes = commands.add_parser("nodes", help="list, add or remove configured nodes")
    nodes.add_argument("--add", metavar="NAME", help="save the node given by the options")
    nodes.add_argument("--remove", metavar="NAME")
    nodes.add_argument("--set-local", action="store_true",
                       help="save --calling-aet / --local-port as ours")  # fmt: skip
    nodes.add_argument("--json", action="store_true")
    add_node_options(nodes)
    nodes.set_defaults(func=run_nodes)

    echo = commands.add_parser("echo", help="test the connection (C-ECHO or QIDO-RS)")
    add_node_options(echo)
    echo.set_defaults(func=run_echo)

    query = commands.add_parser("query", help="find studies (C-FIND or QIDO-RS)")
    query.add_argument("--patient-name", default="", help="wildcards * and ? allowed")
    query.add_argument("--patient-id", default="")
    query.add_argument("--accession", default="")
    query.add_argument("--date-from", default="", metavar="YYYYMMDD")
    query.add_argument("--date-to", default="", metavar="YYYYMMDD")
    query.add_argument("--modality", default="")
    query.add_argument("--study-uid", default="")
    query.add_argument("--series", action="store_true", help="list each study's series too")
    query.add_argument("--json", action="store_true", help="JSON on stdout")
    add_node_options(query)
    query.set_defaults(func=run_query)

    retrieve = commands.add_parser("retrieve", help="retrieve a study (C-GET, C-MOVE, WADO-RS)")
    retrieve.add_argument("study_uid", metavar="STUDY_UID")
    retrieve.add_argument("--method", choices=("get", "move", "wado"),
                          help="default: get for DIMSE, wado for DICOMweb")  # fmt: skip
    retrieve.add_argument("--out", type=Path, help="folder (default: the workspace's pacs/)")
    add_node_options(retrieve)
    retrieve.set_defaults(func=run_retrieve)

    store = commands.add_parser(
        "store",
        help=(
            "send DICOM files (C-STORE or STOW-RS): images, or what SpineViewer wrote "
            "(SR, Encapsulated PDF, SEG, KOS, GSPS)"
        ),
    )
    store.add_argument("files", type=Path, nargs="+", metavar="FILE_OR_FOLDER")
    add_node_options(store)
    store.set_defaults(func=run_store)


def _fail(exc: Exception) -> int:
    print(f"spineviewer pacs: {exc}", file=sys.stderr)
    return 1


def _secret_places(places: dict[str, str]) -> str:
    """Where a node's secrets are kept, in words: "password: keyring", "token: file (...)"."""
    return ", ".join(f"{what}: {place}" for what, place in places.items()) or "password: none"


def run_nodes(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from spineviewer.pacs import DimseNode, PacsError, load_config, save_config
    from spineviewer.pacs.nodes import password_places

    try:
        config = load_config()
        if args.add:
            node, _ = node_from_args(args)
            config = config.with_node(replace(node, name=args.add))
        if args.remove:
            config.node(args.remove)  # an unknown name is an error, not a silent no-op
            config = config.without(args.remove)
        if args.set_local:
            config = replace(config, local=_local(args, config.local))
        if args.add or args.remove or args.set_local:
            print(f"saved {save_config(config)}", file=sys.stderr)
        places = password_places()
    except PacsError as exc:
        return _fail(exc)
    if args.json:
        data = config.to_json()
        for entry, n in zip(data["nodes"], config.nodes, strict=True):  # secrets never shown
            entry.pop("password", None)
            entry.pop("token", None)
            kept = places.get(n.name, {})
            entry["password_in"] = kept.get("password", "none")
            if "token" in kept:
                entry["token_in"] = kept["token"]
            if not isinstance(n, DimseNode):
                entry["tls"] = n.tls
        print(json.dumps(data, indent=2))
        return 0
    print(f"our AE: {config.local.ae_title} (storage port {config.local.port})")
    for n in config.nodes:
        where = _secret_places(places.get(n.name, {}))
        if isinstance(n, DimseNode):
            print(f"{n.name}: DIMSE {n.label} [{where}]")
        else:
            print(f"{n.name}: DICOMweb {n.label} [{n.tls}] [{where}]")
    return 0


def run_echo(args: argparse.Namespace) -> int:
    from spineviewer.pacs import PacsError, echo

    try:
        node, local = node_from_args(args)
        echo(node, local)
    except PacsError as exc:
        return _fail(exc)
    print(f"{node.label}: answers")
    return 0


def run_query(args: argparse.Namespace) -> int:
    from spineviewer.pacs import PacsError, Query, find_series, find_studies

    query = Query(args.patient_name, args.patient_id, args.accession, args.date_from,
                  args.date_to, args.modality, args.study_uid)  # fmt: skip
    try:
        node, local = node_from_args(args)
        studies = find_studies(node, query, local)
        series = {}
        if args.series:
            series = {s.study_uid: find_series(node, s.study_uid, local) for s in studies}
    except PacsError as exc:
        return _fail(exc)
    if args.json:
        rows = []
        for s in studies:
            row = s.to_json()
            if args.series:
                row["series"] = [x.to_json() for x in series[s.study_uid]]
            rows.append(row)
        print(json.dumps(rows, indent=2))
        return 0
    for s in studies:
        print(f"{s.study_date} {s.patient_name} ({s.patient_id}) {s.description} "
              f"[{s.modalities}] {s.series_count} series, {s.image_count} images  "
              f"{s.study_uid}")  # fmt: skip
        for x in series.get(s.study_uid, []):
            print(f"    {x.number:>4} {x.modality} {x.description} ({x.image_count} images)")
    print(f"{len(studies)} studies", file=sys.stderr)
    return 0


def _progress(done: int, total: int, text: str) -> None:
    if sys.stderr.isatty():
        print(f"\r\033[K{text}", end="", file=sys.stderr, flush=True)


def run_retrieve(args: argparse.Namespace) -> int:
    from spineviewer.pacs import PacsError, retrieve, retrieve_root

    try:
        node, local = node_from_args(args)
        result = retrieve(node, args.study_uid, args.out or retrieve_root(), args.method or "",
                          local, progress=_progress)  # fmt: skip
    except PacsError as exc:
        return _fail(exc)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    for warning in result.warnings:
        print(f"spineviewer pacs: {warning}", file=sys.stderr)
    print(result.folder)
    print(result.summary(), file=sys.stderr)
    return 0 if result.complete else 1


def dicom_files(paths: list[Path]) -> list[Path]:
    """Files as given, folders as the .dcm files under them."""
    out: list[Path] = []
    for path in paths:
        out.extend(sorted(path.rglob("*.dcm")) if path.is_dir() else [path])
    return out


def run_store(args: argparse.Namespace) -> int:
    from spineviewer.pacs import PacsError, store

    files = dicom_files(args.files)
    missing = [p for p in files if not p.is_file()]
    if missing or not files:
        return _fail(ValueError(f"no such file: {', '.join(map(str, missing)) or 'none given'}"))
    try:
        node, local = node_from_args(args)
        result = store(node, files, local, progress=_progress)
    except PacsError as exc:
        return _fail(exc)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(result.summary(node.label))
    return 1 if result.failed else 0
