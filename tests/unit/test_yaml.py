"""YAML as Flux reads it: real-world shapes, each with the value Go's go-yaml v3 gives (what kustomize reads).

The expected values were taken from Go (gopkg.in/yaml.v3 decoding into interface{}, then encoding/json,
as the API server receives objects) on these very texts. Empty and null documents are dropped on
purpose: they hold no object, for Flux either.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from mediaops.repo.yamlfiles import YamlError, load_all, parse_all

ERROR = object()

CASES: list[tuple[str, str, Any]] = [
    # anchors and merge keys
    ("an anchor defined again: the later one wins",
     "first: &v one\nsecondary: *v\nthird: &v two\nfourth: *v\n",
     [{"first": "one", "secondary": "one", "third": "two", "fourth": "two"}]),
    ("an anchor defined again per list item (PushSecret, env lists)",
     "data:\n  - key: &k tls.crt\n    property: *k\n  - key: &k tls.key\n    property: *k\n",
     [{"data": [{"key": "tls.crt", "property": "tls.crt"}, {"key": "tls.key", "property": "tls.key"}]}]),
    ("a map anchor defined again",
     "a: &m {x: 1}\nb: *m\nc: &m {x: 2}\nd: *m\n",
     [{"a": {"x": 1}, "b": {"x": 1}, "c": {"x": 2}, "d": {"x": 2}}]),
    ("a merge key", "base: &b {x: 1, y: 2}\nchild:\n  <<: *b\n  y: 3\n",
     [{"base": {"x": 1, "y": 2}, "child": {"x": 1, "y": 3}}]),
    ("a merge key after an explicit key: the explicit one wins",
     "base: &b {a: 1, b: 2}\nchild:\n  a: explicit\n  <<: *b\n",
     [{"base": {"a": 1, "b": 2}, "child": {"a": "explicit", "b": 2}}]),
    ("merging a list of maps: the first wins",
     "one: &one {k: 1}\ntwo: &two {k: 2, j: 2}\nboth:\n  <<: [*one, *two]\n",
     [{"one": {"k": 1}, "two": {"k": 2, "j": 2}, "both": {"k": 1, "j": 2}}]),
    # scalars
    ("a plain = (Alertmanager matchType)", "matchers:\n  - name: alertname\n    matchType: =\n",
     [{"matchers": [{"name": "alertname", "matchType": "="}]}]),
    ("YAML 1.1 booleans are strings; true/false are booleans",
     "a: yes\nb: no\nc: on\nd: off\ne: y\nf: N\ng: True\nh: FALSE\ni: tRUE\n",
     [{"a": "yes", "b": "no", "c": "on", "d": "off", "e": "y", "f": "N", "g": True, "h": False, "i": "tRUE"}]),
    ("octal, hexadecimal, binary, underscores",
     "a: 0777\nb: 0o777\nc: 0x1F\nd: -0x1F\ne: 0b101\nf: 1_000\ng: 010\nh: +12\ni: 08\nj: 0b\n",
     [{"a": 511, "b": 511, "c": 31, "d": -31, "e": 5, "f": 1000, "g": 8, "h": 12, "i": 8, "j": "0b"}]),
    ("floats; an integral one is an integer in JSON",
     "a: 1e3\nb: 0.5\nc: -.5\nd: 1.10\ne: 1.2.3\nf: 12e\ng: .\n",
     [{"a": 1000, "b": 0.5, "c": -0.5, "d": 1.1, "e": "1.2.3", "f": "12e", "g": "."}]),
    ("no sexagesimal numbers", "a: 1:30\nb: 12:30:00\n", [{"a": "1:30", "b": "12:30:00"}]),
    ("timestamps stay strings", "created: 2024-03-01\nat: 2024-03-01T10:20:30Z\n",
     [{"created": "2024-03-01", "at": "2024-03-01T10:20:30Z"}]),
    ("null forms", "a: ~\nb: null\nc: Null\nd:\ne: nil\n", [{"a": None, "b": None, "c": None, "d": None, "e": "nil"}]),
    ("keys are strings, as in the JSON sent to the API server", "1: a\ntrue: b\non: c\n",
     [{"1": "a", "true": "b", "on": "c"}]),
    # tags
    ("!!binary decodes to text", "a: !!binary aGVsbG8gd29ybGQ=\n", [{"a": "hello world"}]),
    ("tags go-yaml does not know leave the value as it is (recyclarr's !env_var)",
     "api_key: !env_var SONARR_API_KEY\nb: !Ref 12\nc: !include {x: 1}\nd: !!set {x, y}\n",
     [{"api_key": "SONARR_API_KEY", "b": "12", "c": {"x": 1}, "d": {"x": None, "y": None}}]),
    ("explicit core tags", "a: !!str 12\nb: !!int \"7\"\nc: !!float 1\n", [{"a": "12", "b": 7, "c": 1.0}]),
    # documents
    ("documents that are empty, null, a list or a scalar",
     "---\n---\nnull\n---\n- 1\n- two\n---\nplain text\n...\n---\nkind: ConfigMap\n",
     [[1, "two"], "plain text", {"kind": "ConfigMap"}]),
    ("a file of comments only", "# nothing here\n# at all\n", []),
    ("a byte-order mark", "\ufeffa: 1\nb: yes\n", [{"a": 1, "b": "yes"}]),
    ("CRLF line ends", "a: 1\r\nb:\r\n  - x\r\n", [{"a": 1, "b": ["x"]}]),
    # what Flux repositories hold
    ("Go templates inside strings",
     "stringData:\n  tls.crt: '{{ index . \"tls.crt\" }}'\n  config.yaml: |\n    server: {{ .Values.server }}\n"
     "  name: \"{{ .Release.Name }}-secret\"\n",
     [{"stringData": {"tls.crt": '{{ index . "tls.crt" }}', "config.yaml": "server: {{ .Values.server }}\n",
                      "name": "{{ .Release.Name }}-secret"}}]),
    ("a SOPS file's metadata",
     "apiVersion: v1\nkind: Secret\nstringData:\n  KEY: ENC[AES256_GCM,data:AAA=,iv:BBB=,tag:CCC=,type:str]\n"
     "sops:\n  age:\n    - recipient: age1example\n  lastmodified: \"2024-01-01T00:00:00Z\"\n"
     "  mac_only_encrypted: true\n  version: 3.10.2\n",
     [{"apiVersion": "v1", "kind": "Secret",
       "stringData": {"KEY": "ENC[AES256_GCM,data:AAA=,iv:BBB=,tag:CCC=,type:str]"},
       "sops": {"age": [{"recipient": "age1example"}], "lastmodified": "2024-01-01T00:00:00Z",
                "mac_only_encrypted": True, "version": "3.10.2"}}]),
    ("Flux variables are plain strings", "host: ${APP}.${SECRET_DOMAIN}\nsize: ${CAPACITY:=5Gi}\nesc: $${X}\n",
     [{"host": "${APP}.${SECRET_DOMAIN}", "size": "${CAPACITY:=5Gi}", "esc": "$${X}"}]),
    # what Go rejects too
    ("a duplicate key", "a: 1\nb: 2\na: 3\n", ERROR),
    ("a duplicate key in a nested map", "spec:\n  replicas: 1\n  replicas: 2\n", ERROR),
    ("an unquoted template is a flow map: Go cannot key on it", "a: {{ index . \"tls.crt\" }}\n", ERROR),
    ("a merge of something that is not a map", "a: &s 1\nb:\n  <<: *s\n", []),
    ("a tab for indentation", "a:\n\tb: 1\n", ERROR),
    ("an unclosed flow sequence", "broken: [unclosed\n", ERROR),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_go_reads_it_so(name: str, text: str, expected: Any) -> None:
    if expected is ERROR:
        with pytest.raises(yaml.YAMLError):
            parse_all(text)
        return
    if not expected and "<<" in text:  # Go refuses this merge; mediaops is lenient: no crash, no invented keys
        assert parse_all(text)[0]["a"] == 1
        return
    documents = parse_all(text)
    assert documents == expected
    json.dumps(documents)  # what it builds is JSON, as Flux sends it


def test_errors_name_the_file_and_the_line(tmp_path: Path) -> None:
    cases = {"dup.yaml": ("a: 1\nb: 2\na: 3\n", ":3: malformed YAML: mapping key 'a' already defined at line 1"),
             "tab.yaml": ("a:\n\tb: 1\n", ":2: malformed YAML: found character that cannot start any token"),
             "utf8.yaml": (b"a: 1\nb: \xff\n", ":2: malformed YAML: invalid UTF-8")}
    for name, (content, expected) in cases.items():
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        with pytest.raises(YamlError) as caught:
            load_all(path, tmp_path)
        assert caught.value.message.startswith(name + expected), caught.value.message
        assert caught.value.hint == "fix the file, then run again"


def test_a_crd_bundle_of_several_megabytes(tmp_path: Path) -> None:
    schema = {f"field{i}": {"type": "string", "description": "x" * 200} for i in range(40)}
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "spec": {"versions": [{"name": "v1", "schema": {"openAPIV3Schema": {"properties": schema}}}]}}
    document = json.dumps(crd)  # JSON is YAML
    path = tmp_path / "crds.yaml"
    path.write_text("\n---\n".join([document] * 400))
    assert path.stat().st_size > 3_000_000
    documents = load_all(path)
    assert len(documents) == 400 and documents[-1]["spec"]["versions"][0]["name"] == "v1"


def test_activation_puts_the_line_back_where_it_was_after_a_leading_namespace_yaml() -> None:
    from mediaops.repo.yamlfiles import add_list_entry, remove_list_entry

    text = ("resources:\n  - ./namespace.yaml\n  - ./agregarr/ks.yaml\n  - ./overseerr/ks.yaml\n"
            "  - ./plex/ks.yaml\n")
    removed = remove_list_entry(text, "resources", "./overseerr/ks.yaml", "kustomization.yaml")
    assert "overseerr" not in removed
    assert add_list_entry(removed, "resources", "./overseerr/ks.yaml", "kustomization.yaml") == text


MULTI = """\
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: minecraft
spec:
  ref:
    tag: 4.26.4
  url: oci://ghcr.io/itzg/minecraft-server-charts/minecraft
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: other
spec:
  ref:
    tag: "1.0.0"
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: &app lobby
spec:
  chartRef: {kind: OCIRepository, name: minecraft}
  values:
    image:
      repository: ghcr.io/itzg/minecraft-server
      tag: 2025.8.1-java21 # renovate
"""


def test_a_scalar_is_set_in_the_document_of_a_file_of_several_that_has_it() -> None:
    """An OCIRepository beside its HelmRelease in one file (kashalls/home-cluster): the value is set in the first
    document that has the path, or in the named one; every other byte stays; YAML that cannot be edited is one
    YamlError, not ruamel's."""
    from mediaops.repo.yamlfiles import set_scalar

    tagged = set_scalar(MULTI, ["spec", "values", "image", "tag"], "2025.9.0", "helmrelease.yaml")
    assert tagged == MULTI.replace("tag: 2025.8.1-java21 # renovate", "tag: 2025.9.0 # renovate")
    first = set_scalar(MULTI, ["spec", "ref", "tag"], "4.26.5", "helmrelease.yaml", ("OCIRepository", "minecraft"))
    assert first == MULTI.replace("tag: 4.26.4", "tag: 4.26.5")
    named = set_scalar(MULTI, ["spec", "ref", "tag"], "1.0.1", "helmrelease.yaml", ("OCIRepository", "other"))
    assert named == MULTI.replace('tag: "1.0.0"', 'tag: "1.0.1"')
    with pytest.raises(YamlError, match=r"helmrelease\.yaml: has no spec\.ref\.tag"):
        set_scalar(MULTI, ["spec", "ref", "tag"], "1", "helmrelease.yaml", ("OCIRepository", "absent"))
    with pytest.raises(YamlError, match=r"helmrelease\.yaml: cannot be edited: "):
        set_scalar("a: [1\n", ["a"], "2", "helmrelease.yaml")
