"""Every flux, velero and sops command mediaops shows an operator (or runs) parses against the flags those CLIs
define upstream.

The binaries do not run here, so their command lines are written down below from their sources, and a small
parser checks each command against them: the subcommand path, every flag (defined? takes a value, or a
boolean that never takes the next word?), and the count of positional arguments.

The table comes from these sources (read with ``git show <commit>:<path>``):

- flux: fluxcd/flux2 main at da2d22d3690191a315822612085f424e4133b06a (2026-08-07, v2.9.0-36-gda2d22d3;
  cmd/flux/main.go, reconcile*.go, suspend*.go and resume*.go are the same at v2.9.4). Its persistent flags
  also come from the modules its go.mod names: k8s.io/cli-runtime v0.36.2 (886399406b62)
  pkg/genericclioptions/config_flags.go (NewConfigFlags, AddFlags) and github.com/fluxcd/pkg runtime/v0.111.0
  (57edf4650772) runtime/client/client.go (Options.BindFlags).
- velero: vmware-tanzu/velero main at d30d389b56068eebd675d9953492183cb7b58a78 (2026-05-20, after v1.18):
  pkg/cmd/velero/velero.go (root persistent flags), pkg/client/factory.go (--kubeconfig, --kubecontext,
  -n/--namespace), pkg/cmd/cli/backup/create.go, pkg/cmd/cli/restore/create.go, pkg/cmd/cli/backup/describe.go,
  pkg/cmd/cli/restore/describe.go, pkg/cmd/util/output/output.go; the klog flags the root adds are those of
  k8s.io/klog/v2 v2.140.0 (ef4b370a5578) klog.go init.
- sops: getsops/sops v3.13.2 at 15e36f97a8641769712da76b64aec4ea566be81e: cmd/sops/main.go (the app's flags,
  keyserviceFlags, and the commands decrypt, encrypt, set).
- How a command line is read: flux and velero use spf13/cobra v1.10.2 and spf13/pflag v1.0.10 (flag.go
  parseLongArg/parseShortArg, golangflag.go PFlagFromGoFlag); sops uses urfave/cli v1.22.17 (command.go
  reorderArgs, flag.go HelpFlag/VersionFlag) over Go's flag package.
"""

from __future__ import annotations

import io
import json
import re
import shlex
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mediaops.cluster import flux, velero
from mediaops.repo import sops
from tests.conftest import KUBECTL, ROOT, HomeOps, Mediaops, kubectl

# -- the grammar ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    """One flag. ``value``: it takes a value (``--f=v`` or ``--f v``); else it is a boolean (a pflag flag with
    NoOptDefVal, or a Go/urfave BoolFlag): ``--f`` or ``--f=true|false``, never the next word."""

    name: str
    short: str = ""
    value: bool = True
    kind: str = "string"  # string, duration, int, float, or a choice (choices)
    choices: tuple[str, ...] = ()


def boolean(name: str, short: str = "") -> Flag:
    return Flag(name, short, value=False, kind="bool")


@dataclass(frozen=True)
class Command:
    """A runnable subcommand: its own flags, how many positional arguments it takes (max None: any number),
    and rules that depend on the flags given."""

    flags: tuple[Flag, ...] = ()
    args: tuple[int, int | None] = (0, 0)
    args_with: tuple[tuple[str, tuple[int, int | None]], ...] = ()  # (flag given, args then)
    one_of: tuple[str, ...] = ()  # exactly one of these flags must be given


@dataclass(frozen=True)
class Cli:
    name: str
    style: str  # "cobra" (flags anywhere, pflag rules) or "urfave" (app flags, command, command flags)
    global_flags: tuple[Flag, ...]
    commands: dict[tuple[str, ...], Command]
    persistent: dict[tuple[str, ...], tuple[Flag, ...]] = field(default_factory=dict)  # group -> inherited
    aliases: dict[str, str] = field(default_factory=dict)

    def children(self, path: tuple[str, ...]) -> set[str]:
        return {p[len(path)] for p in self.commands if len(p) > len(path) and p[:len(path)] == path}

    def flags_at(self, path: tuple[str, ...]) -> tuple[Flag, ...]:
        inherited = [f for i in range(len(path)) for f in self.persistent.get(path[:i + 1], ())]
        own = self.commands[path].flags if path in self.commands else ()
        return (*self.global_flags, *inherited, *own)


# cobra's InitDefaultHelpFlag: every cobra command has -h/--help (a local flag).
HELP = boolean("help", "h")

# fluxcd/flux2 cmd/flux/main.go init(): rootCmd.PersistentFlags().
FLUX_GLOBAL = (
    Flag("timeout", kind="duration"),
    boolean("verbose"),
    boolean("ns-follows-kube-context"),
    # kubeconfigArgs = genericclioptions.NewConfigFlags(false), with APIServer and Timeout set to nil before
    # AddFlags (so neither -s/--server nor --request-timeout from there); NewConfigFlags leaves Username and
    # Password nil, so no --username/--password. cli-runtime config_flags.go AddFlags, in its order:
    Flag("kubeconfig"),
    Flag("cache-dir"),
    Flag("client-certificate"),
    Flag("client-key"),
    Flag("token"),
    Flag("as"),
    Flag("as-uid"),
    Flag("as-group"),  # StringArrayVar: repeatable, one value each
    Flag("as-user-extra"),  # StringArrayVar
    Flag("cluster"),
    Flag("user"),
    Flag("namespace", "n"),
    Flag("context"),
    Flag("tls-server-name"),
    boolean("insecure-skip-tls-verify"),
    Flag("certificate-authority"),
    boolean("disable-compression"),
    # main.go: --server added back by hand, without -s ("some subcommands use -s for --silent").
    Flag("server"),
    # kubeclientOptions.BindFlags: fluxcd/pkg runtime/client/client.go.
    Flag("kube-api-qps", kind="float"),
    Flag("kube-api-burst", kind="int"),
)

# reconcile.go run / suspend.go run / resume.go run: "<kind> name is required" unless --all (suspend, resume).
# The reconcile commands have no cobra Args rule and use args[0] alone: a second name would be ignored, so it
# counts as an error here. suspend and resume act on every name given.
_RECONCILE = (1, 1)
_MANY = (1, None)
_ALL = (("all", (0, None)),)

FLUX = Cli(
    "flux", "cobra", FLUX_GLOBAL,
    commands={
        # reconcile_kustomization.go (Aliases ks): --with-source only.
        ("reconcile", "kustomization"): Command((boolean("with-source"), HELP), _RECONCILE),
        # reconcile_helmrelease.go (Aliases hr): --with-source, --force, --reset.
        ("reconcile", "helmrelease"): Command(
            (boolean("with-source"), boolean("force"), boolean("reset"), HELP), _RECONCILE),
        # reconcile_source_git.go, _oci.go, _helm.go: no flags of their own; _chart.go: --with-source.
        ("reconcile", "source", "git"): Command((HELP,), _RECONCILE),
        ("reconcile", "source", "oci"): Command((HELP,), _RECONCILE),
        ("reconcile", "source", "helm"): Command((HELP,), _RECONCILE),
        ("reconcile", "source", "chart"): Command((boolean("with-source"), HELP), _RECONCILE),
        # suspend_*.go and resume_*.go: no flags of their own (suspend.go/resume.go give them persistent ones).
        **{(verb, *kind): Command((HELP,), _MANY, _ALL)
           for verb in ("suspend", "resume")
           for kind in (("kustomization",), ("helmrelease",), ("source", "git"), ("source", "oci"),
                        ("source", "helm"), ("source", "chart"))},
    },
    persistent={
        ("suspend",): (boolean("all"),),  # suspend.go init
        ("resume",): (boolean("all"), boolean("wait")),  # resume.go init
    },
    aliases={"ks": "kustomization", "hr": "helmrelease"},
)

# vmware-tanzu/velero pkg/cmd/velero/velero.go NewCommand: c.PersistentFlags().
VELERO_GLOBAL = (
    # pkg/client/factory.go NewFactory, bound by BindFlags.
    Flag("kubeconfig"),
    Flag("namespace", "n"),
    Flag("kubecontext"),
    Flag("features"),  # veleroflag.StringArray
    # veleroflag.OptionalBool bound with Var and no NoOptDefVal: it takes a value (strconv.ParseBool).
    Flag("colorized", kind="bool"),
    # klog.InitFlags(flag.CommandLine) then AddGoFlagSet: klog/v2 v2.140.0 klog.go init; pflag makes a Go bool
    # flag a boolean, and a one-letter name its own shorthand too (golangflag.go PFlagFromGoFlag).
    Flag("log_dir"),
    Flag("log_file"),
    Flag("log_file_max_size", kind="int"),
    boolean("logtostderr"),
    boolean("alsologtostderr"),
    boolean("legacy_stderr_threshold_behavior"),
    Flag("v", "v", kind="int"),
    boolean("add_dir_header"),
    boolean("skip_headers"),
    boolean("one_output"),
    boolean("skip_log_headers"),
    Flag("stderrthreshold"),
    Flag("alsologtostderrthreshold"),
    Flag("vmodule"),
    Flag("log_backtrace_at"),
)


def _optional(name: str) -> Flag:
    """A velero flag bound with VarPF and NoOptDefVal = "true": a boolean, ``--f`` or ``--f=false``."""
    return boolean(name)


# pkg/cmd/util/output/output.go BindFlags (with ClearOutputFlagDefault on create commands); validateOutputFlag
# takes "", table, json or yaml.
_OUTPUT = (Flag("output", "o", kind="choice", choices=("", "table", "json", "yaml")), Flag("label-columns", "L"),
           boolean("show-labels"))

VELERO = Cli(
    "velero", "cobra", VELERO_GLOBAL,
    commands={
        # pkg/cmd/cli/backup/create.go NewCreateCommand: Args MaximumNArgs(1); Validate: "a backup name is
        # required, unless you are creating based on a schedule". Flags: BindFlags, BindWait, BindFromSchedule,
        # output.BindFlags.
        ("backup", "create"): Command((
            Flag("ttl", kind="duration"),
            Flag("include-namespaces"),
            Flag("exclude-namespaces"),
            Flag("include-resources"),
            Flag("exclude-resources"),
            Flag("include-cluster-scoped-resources"),
            Flag("exclude-cluster-scoped-resources"),
            Flag("include-namespace-scoped-resources"),
            Flag("exclude-namespace-scoped-resources"),
            Flag("labels"),
            Flag("annotations"),
            Flag("storage-location"),
            Flag("volume-snapshot-locations"),
            Flag("selector", "l"),
            Flag("or-selector"),
            Flag("ordered-resources"),
            Flag("csi-snapshot-timeout", kind="duration"),
            Flag("item-operation-timeout", kind="duration"),
            _optional("snapshot-volumes"),
            _optional("snapshot-move-data"),
            _optional("include-cluster-resources"),
            _optional("default-volumes-to-fs-backup"),
            Flag("resource-policies-configmap"),
            Flag("data-mover"),
            Flag("parallel-files-upload", kind="int"),
            boolean("wait", "w"),
            Flag("from-schedule"),
            *_OUTPUT,
            HELP,
        ), args=(1, 1), args_with=(("from-schedule", (0, 1)),)),
        # pkg/cmd/cli/restore/create.go NewCreateCommand: Args MaximumNArgs(1) (the name is optional);
        # Validate: a backup or a schedule, not both; existing-resource-policy none or update
        # (pkg/util/velero/restore/util.go IsResourcePolicyValid).
        ("restore", "create"): Command((
            Flag("from-backup"),
            Flag("from-schedule"),
            Flag("include-namespaces"),
            Flag("exclude-namespaces"),
            Flag("namespace-mappings"),
            Flag("labels"),
            Flag("annotations"),
            Flag("include-resources"),
            Flag("exclude-resources"),
            Flag("existing-resource-policy", kind="choice", choices=("none", "update")),
            Flag("status-include-resources"),
            Flag("status-exclude-resources"),
            Flag("selector", "l"),
            Flag("or-selector"),
            Flag("item-operation-timeout", kind="duration"),
            _optional("restore-volumes"),
            _optional("preserve-nodeports"),
            _optional("include-cluster-resources"),
            _optional("allow-partially-failed"),
            boolean("wait", "w"),
            Flag("resource-modifier-configmap"),
            _optional("write-sparse-files"),
            Flag("parallel-files-download", kind="int"),
            *_OUTPUT,
            HELP,
        ), args=(0, 1), one_of=("from-backup", "from-schedule")),
        # pkg/cmd/cli/backup/get.go NewGetCommand: "[NAME1] [NAME2] [NAME...]", --selector/-l and output.BindFlags.
        ("backup", "get"): Command((Flag("selector", "l"), *_OUTPUT, HELP), args=(0, None)),
        # pkg/cmd/cli/backup/describe.go and restore/describe.go: "[NAME1] [NAME2] [NAME...]".
        ("backup", "describe"): Command((
            Flag("selector", "l"), boolean("details"), boolean("insecure-skip-tls-verify"), Flag("cacert"),
            Flag("output", "o", kind="choice", choices=("plaintext", "json")), HELP), args=(0, None)),
        ("restore", "describe"): Command((
            Flag("selector", "l"), boolean("details"), boolean("insecure-skip-tls-verify"), Flag("cacert"), HELP),
            args=(0, None)),
    },
)

# getsops/sops cmd/sops/main.go: keyserviceFlags, appended to the app's flags and to each command's.
_KEYSERVICE = (boolean("enable-local-keyservice"), Flag("keyservice"))  # BoolTFlag, StringSliceFlag
# urfave/cli v1.22.17 flag.go: HelpFlag "help, h" on the app and on every command; VersionFlag "version, v" on
# the app (sops sets app.Version).
_URFAVE_HELP = boolean("help", "h")

SOPS = Cli(
    "sops", "urfave",
    global_flags=(
        # app.Flags, in main.go's order.
        boolean("decrypt", "d"), boolean("encrypt", "e"), boolean("rotate", "r"), boolean("disable-version-check"),
        boolean("check-for-updates"), Flag("kms", "k"), Flag("aws-profile"), Flag("gcp-kms"), Flag("hckms"),
        Flag("azure-kv"), Flag("hc-vault-transit"), Flag("pgp", "p"), Flag("age", "a"), boolean("in-place", "i"),
        Flag("extract"), Flag("input-type"), Flag("output-type"), boolean("show-master-keys", "s"),
        Flag("add-gcp-kms"), Flag("rm-gcp-kms"), Flag("add-hckms"), Flag("rm-hckms"), Flag("add-azure-kv"),
        Flag("rm-azure-kv"), Flag("add-kms"), Flag("rm-kms"), Flag("add-hc-vault-transit"),
        Flag("rm-hc-vault-transit"), Flag("add-age"), Flag("rm-age"), Flag("add-pgp"), Flag("rm-pgp"),
        boolean("ignore-mac"), boolean("mac-only-encrypted"), Flag("unencrypted-suffix"), Flag("encrypted-suffix"),
        Flag("unencrypted-regex"), Flag("encrypted-regex"), Flag("unencrypted-comment-regex"),
        Flag("encrypted-comment-regex"), Flag("config"), Flag("encryption-context"), Flag("set"),
        Flag("shamir-secret-sharing-threshold", kind="int"), Flag("indent", kind="int"), boolean("verbose"),
        Flag("output"), Flag("filename-override"), Flag("decryption-order"),
        *_KEYSERVICE, _URFAVE_HELP, boolean("version", "v"),
    ),
    commands={
        # `sops [flags] FILE` (app.Action): "Error: no file specified"; only the first file is used
        # (warnMoreThanOnePositionalArgument), so one.
        (): Command(args=(1, 1)),
        # "decrypt": [file], stdin when none; one at most (warnMoreThanOnePositionalArgument).
        ("decrypt",): Command((
            boolean("in-place", "i"), Flag("extract"), Flag("output"), Flag("input-type"), Flag("output-type"),
            boolean("ignore-mac"), Flag("filename-override"), Flag("decryption-order"), *_KEYSERVICE,
            _URFAVE_HELP), args=(0, 1)),
        # "encrypt": [file], stdin when none.
        ("encrypt",): Command((
            boolean("in-place", "i"), Flag("output"), Flag("kms", "k"), Flag("aws-profile"), Flag("gcp-kms"),
            Flag("hckms"), Flag("azure-kv"), Flag("hc-vault-transit"), Flag("pgp", "p"), Flag("age", "a"),
            Flag("input-type"), Flag("output-type"), Flag("unencrypted-suffix"), Flag("encrypted-suffix"),
            Flag("unencrypted-regex"), Flag("encrypted-regex"), Flag("encryption-context"),
            Flag("shamir-secret-sharing-threshold", kind="int"), Flag("filename-override"), *_KEYSERVICE,
            _URFAVE_HELP), args=(0, 1)),
        # "set": `file index [ value ]`: "Need precisely 3 positional arguments", or 2 with --value-stdin.
        ("set",): Command((
            Flag("input-type"), Flag("output-type"), boolean("value-file"), boolean("value-stdin"),
            Flag("shamir-secret-sharing-threshold", kind="int"), boolean("ignore-mac"), Flag("decryption-order"),
            boolean("idempotent"), *_KEYSERVICE, _URFAVE_HELP), args=(3, 3), args_with=(("value-stdin", (2, 2)),)),
    },
)

CLIS = {cli.name: cli for cli in (FLUX, VELERO, SOPS)}


# -- the parser ----------------------------------------------------------------------------------------------
class Rejected(Exception):
    """The command line would not parse: the message says where and why."""


@dataclass
class Parsed:
    path: tuple[str, ...]
    flags: dict[str, list[str]]
    args: list[str]


# Go's time.ParseDuration: a sequence of decimal numbers with units, or "0".
_DURATION = re.compile(r"[-+]?(0|((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)")
_INT = re.compile(r"[-+]?\d+")
_FLOAT = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")
_BOOL = {"1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"}  # strconv.ParseBool


def _check_value(flag: Flag, value: str, shown: str) -> None:
    ok = {"duration": lambda: bool(_DURATION.fullmatch(value)), "int": lambda: bool(_INT.fullmatch(value)),
          "float": lambda: bool(_FLOAT.fullmatch(value)), "bool": lambda: value in _BOOL,
          "choice": lambda: value in flag.choices, "string": lambda: True}[flag.kind]()
    if not ok:
        expected = f"one of {', '.join(repr(c) for c in flag.choices)}" if flag.kind == "choice" else f"a {flag.kind}"
        raise Rejected(f"{shown} has the value {value!r}, not {expected}")


def _looks_like_flag(word: str) -> bool:
    return len(word) > 1 and word.startswith("-")


def _take_value(flag: Flag, shown: str, words: list[str], i: int) -> tuple[str, int]:
    """The value of a flag written without ``=``: the next word. pflag and Go's flag package would take even a
    flag there as the value; a rendered value never starts with "-", so that is reported as a missing value."""
    if i >= len(words) or _looks_like_flag(words[i]):
        after = f" (the next word is {words[i]!r}, a flag)" if i < len(words) else " (it is the last word)"
        raise Rejected(f"flag {shown} takes a value and has none{after}")
    return words[i], i + 1


def _index(flags: Iterable[Flag]) -> tuple[dict[str, Flag], dict[str, Flag]]:
    flags = list(flags)
    return {f.name: f for f in flags}, {f.short: f for f in flags if f.short}


def _pflag(word: str, words: list[str], i: int, flags: tuple[Flag, ...], where: str,
           seen: dict[str, list[str]]) -> int:
    """One flag word as pflag v1.0.10 reads it (parseLongArg, parseShortArg); returns the next index."""
    longs, shorts = _index(flags)
    if word.startswith("--"):
        name, eq, value = word[2:].partition("=")
        if not name or name[0] in "-=":
            raise Rejected(f"bad flag syntax: {word}")
        flag = longs.get(name)
        if flag is None:
            raise Rejected(f"unknown flag --{name} for `{where}`")
        shown = f"--{name}"
        if not eq:
            value, i = _take_value(flag, shown, words, i) if flag.value else ("true", i)
        _check_value(flag, value, shown)
        seen.setdefault(flag.name, []).append(value)
        return i
    cluster = word[1:]
    while cluster:  # -abc: booleans a and b, then c with the rest (or the next word) as its value
        letter, cluster = cluster[0], cluster[1:]
        flag = shorts.get(letter)
        if flag is None:
            raise Rejected(f"unknown shorthand flag -{letter} (in {word}) for `{where}`")
        shown = f"-{letter}"
        if cluster.startswith("="):
            value, cluster = cluster[1:], ""
        elif not flag.value:
            value = "true"
        elif cluster:
            value, cluster = cluster, ""
        else:
            value, i = _take_value(flag, shown, words, i)
        _check_value(flag, value, shown)
        seen.setdefault(flag.name, []).append(value)
    return i


def _cobra(cli: Cli, words: list[str]) -> Parsed:
    """cobra: the leading words that name subcommands (aliases too) make the path; flags may stand anywhere and
    are those of the root (persistent), of the groups on the path (persistent) and of the leaf."""
    path: tuple[str, ...] = ()
    seen: dict[str, list[str]] = {}
    args: list[str] = []
    i = 0
    while i < len(words):
        word, i = words[i], i + 1
        if word == "--":  # pflag: the rest are positional
            args += words[i:]
            break
        if _looks_like_flag(word):
            i = _pflag(word, words, i, cli.flags_at(path), " ".join((cli.name, *path)), seen)
            continue
        children = cli.children(path) if not args else set()
        if children:
            name = cli.aliases.get(word, word)
            if name not in children:
                raise Rejected(f"unknown command {word!r} for `{' '.join((cli.name, *path))}` "
                               f"(it has: {', '.join(sorted(children))})")
            path += (name,)
            continue
        args.append(word)
    return Parsed(path, seen, args)


def _goflags(words: list[str], flags: tuple[Flag, ...], where: str, seen: dict[str, list[str]],
             *, interspersed: bool = False) -> list[str]:
    """Go's flag.FlagSet.Parse as urfave/cli uses it: ``-name`` or ``--name`` (a short name is just another
    name), ``=value``; parsing stops at the first word that is not a flag (unless ``interspersed``, which reads
    the line as written to compare), and after ``--``. Returns the positional words."""
    by_name = {n: f for f in flags for n in (f.name, f.short) if n}
    rest: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if len(word) < 2 or word[0] != "-":
            if not interspersed:
                return rest + words[i:]
            rest.append(word)
            i += 1
            continue
        i += 1
        if word == "--":
            return rest + words[i:]
        name, eq, value = word[2 if word.startswith("--") else 1:].partition("=")
        if not name or name[0] in "-=":
            raise Rejected(f"bad flag syntax: {word}")
        flag = by_name.get(name)
        if flag is None:
            raise Rejected(f"flag provided but not defined: -{name} (for `{where}`)")
        shown = word.partition("=")[0]
        if not eq:
            value, i = _take_value(flag, shown, words, i) if flag.value else ("true", i)
        _check_value(flag, value, shown)
        seen.setdefault(flag.name, []).append(value)
    return rest


def _reorder(flags: tuple[Flag, ...], words: list[str]) -> list[str]:
    """urfave/cli v1.22.17 command.go reorderArgs: the command's flags move before the other words, and the
    word after a flag written without "=" moves with it (whether or not the flag takes a value)."""
    names = {n for f in flags for n in (f.name, f.short) if n}
    reordered: list[str] = []
    remaining: list[str] = []
    next_may_be_value = False

    def is_flag(word: str) -> bool:
        return word not in ("-", "--") and word.startswith("-") and word.lstrip("-").split("=")[0] in names

    for i, word in enumerate(words):
        if next_may_be_value and not is_flag(word):
            next_may_be_value = False
            reordered.append(word)
        elif word == "--":
            remaining = ["--", *remaining, *words[i + 1:]]
            break
        elif is_flag(word):
            reordered.append(word)
            next_may_be_value = "=" not in word
        else:
            remaining.append(word)
    return reordered + remaining


def _urfave(cli: Cli, words: list[str]) -> Parsed:
    """urfave/cli v1: the app's flags first (App.Run does not reorder), then a command name, then the command's
    flags and arguments (Command.parseFlags: reorderArgs, then Go's flag package)."""
    seen: dict[str, list[str]] = {}
    rest = _goflags(words, cli.global_flags, cli.name, seen)
    if rest and (rest[0],) in cli.commands:
        path = (rest[0],)
        where = f"{cli.name} {rest[0]}"
        flags = cli.commands[path].flags
        args = _goflags(_reorder(flags, rest[1:]), flags, where, seen)
        as_written = _goflags(rest[1:], flags, where, {}, interspersed=True)
        if args != as_written:
            raise Rejected(f"urfave/cli's reorderArgs would read the positional arguments of `{where}` as {args}, "
                           f"not {as_written} as written (a flag after them takes the next word along)")
        return Parsed(path, seen, args)
    return Parsed((), seen, rest)


def parse(words: list[str]) -> Parsed:
    """Check one command line (its words, the binary first) against the table; raise Rejected if it fails."""
    cli = CLIS[words[0]]
    parsed = (_cobra if cli.style == "cobra" else _urfave)(cli, words[1:])
    where = " ".join((cli.name, *parsed.path))
    command = cli.commands.get(parsed.path)
    if command is None:
        raise Rejected(f"`{where}` is not a command: it needs a subcommand "
                       f"(one of: {', '.join(sorted(cli.children(parsed.path)))})")
    given = [name for name in command.one_of if name in parsed.flags]
    if command.one_of and len(given) != 1:
        raise Rejected(f"`{where}` needs exactly one of --{', --'.join(command.one_of)}; it has "
                       f"{', '.join('--' + g for g in given) or 'none'}")
    low, high = next((counts for name, counts in command.args_with if name in parsed.flags), command.args)
    count = len(parsed.args)
    if count < low or (high is not None and count > high):
        wanted = f"{low}" if low == high else f"{low} to {high if high is not None else 'any number'}"
        raise Rejected(f"`{where}` takes {wanted} positional argument(s), this has {count}: {parsed.args}")
    return parsed


# -- finding the commands in what mediaops shows -------------------------------------------------------------
BINARIES = tuple(CLIS)
_OPERATOR_CHARS = ";&|()<>\n"
_PREFIXES = {"if", "then", "else", "elif", "do", "while", "until", "!", "time", "{"}
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


class _Text(io.StringIO):
    """shlex reads a comment with readline(), its newline included; in a shell that newline still ends the
    command, so it is left to be read."""

    def readline(self, size: int | None = -1) -> str:
        start = self.tell()
        line = super().readline(-1 if size is None else size)
        if line.endswith("\n"):
            self.seek(start + len(line) - 1)
            return line[:-1]
        return line


def simple_commands(text: str) -> list[list[str]]:
    """The simple commands of a shell text: split at newlines, ``&&``, ``||``, ``;``, ``|``, ``&`` and
    parentheses, with redirections (``< file``), comments and line continuations left out."""
    lexer = shlex.shlex(_Text(text.replace("\\\n", " ")), posix=True, punctuation_chars=_OPERATOR_CHARS)
    lexer.whitespace = " \t\r"  # a newline is an operator, as in a shell
    lexer.whitespace_split = True
    found: list[list[str]] = [[]]
    tokens = iter(lexer)
    for token in tokens:
        if token and set(token) <= set(_OPERATOR_CHARS):
            if set(token) & set("<>") and set(token) <= set("<>&"):
                next(tokens, None)  # a redirection and its target are no arguments
            else:
                found.append([])
            continue
        found[-1].append(token)
    return [words for words in found if words]


def cli_commands(text: str) -> list[list[str]]:
    """Every flux, velero or sops command in a shell text (after ``if``/``do``/``!`` and VAR=value too)."""
    found = []
    for words in simple_commands(text):
        while words and (words[0] in _PREFIXES or _ASSIGNMENT.match(words[0])):
            words = words[1:]
        if words and words[0] in BINARIES:
            found.append(words)
    return found


def check(text: str, origin: str) -> list[list[str]]:
    """Every flux/velero/sops command in text, each parsed; fails naming the renderer and the command."""
    try:
        commands = cli_commands(text)
    except ValueError as exc:  # shlex: an unbalanced quote
        pytest.fail(f"{origin} renders a command no shell would read ({exc}): {text}", pytrace=False)
    for words in commands:
        problem = ""
        try:
            parse(words)
        except Rejected as exc:
            problem = str(exc)
        if problem:
            pytest.fail(f"{origin} renders `{shlex.join(words)}`, which {words[0]} would not parse: {problem}\n"
                        f"(in: {text})", pytrace=False)
    return commands


# -- (a) the renderers, called directly ----------------------------------------------------------------------
def _rendered() -> Iterator[tuple[str, str]]:
    """(which renderer with which options, what it returns), covering every option of each."""
    for kind in flux.CLI_KIND:
        for verb in ("reconcile", "suspend", "resume"):
            yield f"flux.command({kind!r}, verb={verb!r})", flux.command(kind, "podinfo", "apps", verb=verb)
    # --with-source where upstream has it (reconcile kustomization, helmrelease, source chart); --force on a
    # HelmRelease (the only reconcile with --force).
    for kind in ("Kustomization", "HelmRelease", "HelmChart"):
        yield (f"flux.command({kind!r}, with_source=True)",
               flux.command(kind, "podinfo", "apps", with_source=True))
    yield "flux.command('HelmRelease', force=True)", flux.command("HelmRelease", "podinfo", "apps", force=True)
    yield ("flux.command('HelmRelease', with_source=True, force=True)",
           flux.command("HelmRelease", "podinfo", "apps", with_source=True, force=True))
    no_cluster: Any = None  # rendering never reads the cluster
    release = flux.FluxObject(no_cluster, "HelmRelease", "tautulli", "media")
    yield "flux.FluxObject.command('resume')", release.command("resume")
    yield ("flux.Reconcile(with_source, force).render()",
           flux.Reconcile(release, with_source=True, force=True).render())
    source = flux.FluxObject(no_cluster, "GitRepository", "flux-system", "flux-system")
    yield "flux.Reconcile(GitRepository).render()", flux.Reconcile(source).render()

    name = "pre-tautulli-20260101000000"
    yield "velero.backup_command()", velero.backup_command(name, namespaces=["media"])
    yield ("velero.backup_command(selector=)",
           velero.backup_command(name, namespaces=["media"], selector="app.kubernetes.io/name=tautulli"))
    yield ("velero.backup_command(several namespaces, selector, ttl, location)",
           velero.backup_command(name, namespaces=["media", "downloads"], selector="app.kubernetes.io/name=tautulli",
                                 ttl="168h", location="default"))
    yield ("velero.backup_command(volumes=False)",
           velero.backup_command(name, namespaces=["media"], selector="app.kubernetes.io/name=tautulli",
                                 volumes=False))
    yield "velero.restore_command()", velero.restore_command(name)
    yield "velero.restore_command(name=)", velero.restore_command(name, f"{name}-again")
    yield ("velero.backup_command(server=) and restore_command(server=): Velero in another namespace",
           velero.backup_command(name, namespaces=["media"], server="storage") + "\n"
           + velero.restore_command(name, server="storage"))
    for kind in ("Kustomization", "HelmRelease"):
        yield f"flux.command({kind}, verb=resume, wait=False)", flux.command(kind, "tautulli", "media", verb="resume",
                                                                              wait=False)
    yield ("sops.set_command()",
           sops.set_command("kubernetes/components/common/cluster-secrets.sops.yaml",
                            '["stringData"]["SECRET_PLEXTOKEN"]'))


RENDERED = list(_rendered())


@pytest.mark.parametrize(("origin", "text"), RENDERED, ids=[origin for origin, _ in RENDERED])
def test_each_renderer_writes_commands_that_parse(origin: str, text: str) -> None:
    assert check(text, origin), f"{origin} rendered no flux, velero or sops command: {text!r}"


def test_the_renderers_cover_every_binary() -> None:
    found = Counter(words[0] for _, text in RENDERED for words in cli_commands(text))
    assert set(found) == set(BINARIES), found


def test_the_sops_calls_mediaops_makes_parse(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """repo/sops.py runs sops itself too (set_value, extract): the argument lists it hands to the binary."""
    calls: list[list[str]] = []

    class Done:
        returncode, stdout, stderr = 0, "", ""

    def record(argv: list[str], **_: Any) -> Done:
        calls.append(list(argv))
        return Done()

    monkeypatch.setattr(sops.subprocess, "run", record)
    sops.set_value(tmp_path, "kubernetes/components/common/cluster-secrets.sops.yaml",
                   '["stringData"]["SECRET_PLEXTOKEN"]', '"a-token"')
    sops.extract(tmp_path, "kubernetes/components/common/cluster-secrets.sops.yaml",
                 '["stringData"]["SECRET_PLEXTOKEN"]')
    assert [c[:2] for c in calls] == [["sops", "set"], ["sops", "decrypt"]]
    for argv in calls:
        parse(argv)


# -- (b) end to end: what the runbooks show, on the sample repository against the rehearsal ------------------
TOKEN = "rotated-plex-token-0002"
# Every runbook of the sample repository, with the options that change the commands it shows.
RUNS: dict[str, list[list[str]]] = {
    "activate": [["plex-exporter"]],
    "deactivate": [["tautulli"]],
    "nfs-outage": [["--planned"], ["--planned", "--app", "calibre-web"]],
    "backup-before-upgrade": [["tautulli", "--chart-version", "3.7.2"],
                              ["tautulli", "--image-tag", "2.15.2", "--ttl", "168h", "--accept-partial"],
                              ["tautulli", "--chart-version", "3.7.2", "--objects-only"]],
    "reconcile": [["tautulli", "--force"]],
    "restart": [["tautulli", "--force"]],
    "rotate-plex-token": [["--token-file", "{token_file}"]],
    "trakt-reauth": [["--force"]],
    "restore": [["tautulli"], ["tautulli", "--backup", "nightly"]],
    "mediabox-ingress": [[], ["--host", "radarr.example.test"]],
    "overseerr-weekly": [[]],
}
# The undo preview prints "would <what>: <command>" (engine/runner.py _undo_guarded); <what> may hold ": ".
_UNDO_COMMAND = re.compile(r": (?=(?:flux|velero|sops|kubectl|git) )")
_BACKTICKS = re.compile(r"`([^`]+)`")


def _with_sops(ops: Mediaops, tmp_path: Path) -> Path:
    """sops on PATH as tests/e2e/runbooks/test_plex_token.py has it: the real one behind the recorder."""
    calls = tmp_path / "sops-calls.jsonl"
    ops.env.update(STANDIN_PYTHON=sys.executable, SOPS_CALLS=str(calls),
                   SOPS_AGE_KEY_FILE=str(ROOT / "mediaops" / "sim" / "rehearsal.agekey"),
                   PATH=f"{ROOT / 'tests' / 'standins'}:{ops.env['PATH']}")
    return calls


def _events(ops: Mediaops, home_ops: HomeOps, *args: str, ok: bool = True) -> list[dict[str, Any]]:
    result = ops.run("--repo", str(home_ops.path), *args, "--json")
    assert (result.returncode == 0) is ok, (args, result.stdout[-3000:], result.stderr[-2000:])
    return [json.loads(line) for line in result.stdout.splitlines()]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _check_events(events: list[dict[str, Any]], origin: str) -> list[list[str]]:
    """The commands of a run's events: a step's command (and undo command), what an undo preview would run,
    and any `backticked` command in a message."""
    found = []
    for event in events:
        where = f"{origin}: {event['event']} {event.get('title', '')!r}"
        for key in ("command", "undo_command"):
            if isinstance(event.get(key), str):
                found += check(event[key], where)
        message = event.get("message")
        if event["event"] == "log" and isinstance(message, str) and message.startswith("would "):
            parts = _UNDO_COMMAND.split(message, maxsplit=1)
            if len(parts) == 2:
                found += check(parts[1], f"{where} (undo preview)")
        for text in _strings({k: v for k, v in event.items() if k not in ("command", "undo_command")}):
            for quoted in _BACKTICKS.findall(text):
                if (quoted.split() or [""])[0] in BINARIES:  # prose may quote anything else
                    found += check(quoted, f"{where} (in a message)")
    return found


def test_every_runbook_preview_parses(sim: Mediaops, home_ops: HomeOps, tmp_path: Path) -> None:
    """`mediaops --repo <copy> run <runbook> … --dry-run --json` for every runbook, as tests/e2e/test_commands.py
    collects the previews; sops as the sample's rotation runs it (the recorder notes its real calls)."""
    listed = {r["name"] for r in json.loads(sim.run("--repo", str(home_ops.path), "list", "--json").stdout)}
    assert listed == set(RUNS), f"runbooks without a preview here: {listed - set(RUNS)}; gone: {set(RUNS) - listed}"
    calls = _with_sops(sim, tmp_path)
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    assert sim.run("--repo", str(home_ops.path), "run", "activate", "plex-trakt-sync", "--yes").returncode == 0
    backup = {"apiVersion": "velero.io/v1", "kind": "Backup", "metadata": {"name": "nightly", "namespace": "velero"},
              "spec": {"includedNamespaces": ["media"], "defaultVolumesToFsBackup": True}}
    made = subprocess.run([KUBECTL, "create", "-f", "-"], input=json.dumps(backup), env=sim.env, text=True,
                          capture_output=True, timeout=60)
    assert made.returncode == 0 and kubectl(sim, "wait", "--for=jsonpath={.status.phase}=Completed",
                                            "backup/nightly", "-n", "velero", "--timeout=60s").returncode == 0
    found: list[list[str]] = []
    for runbook, variants in RUNS.items():
        for variant in variants:
            args = [a.format(token_file=token_file) for a in variant]
            events = _events(sim, home_ops, "run", runbook, *args, "--dry-run")
            found += _check_events(events, f"`mediaops run {runbook} {' '.join(variant)} --dry-run`")
    recorded = [["sops", *json.loads(line)] for line in calls.read_text().splitlines()]
    assert recorded, "the rotation's preview ran no sops"
    for argv in recorded:
        problem = ""
        try:
            parse(argv)
        except Rejected as exc:
            problem = str(exc)
        assert not problem, f"mediaops ran `{shlex.join(argv)}`, which sops would not parse: {problem}"
    counts = Counter(words[0] for words in found)
    assert all(counts[b] for b in BINARIES), f"not every binary shown in the previews: {dict(counts)}"


def test_the_undo_preview_and_a_failed_backup_show_commands_that_parse(sim: Mediaops, home_ops: HomeOps) -> None:
    """What only a run shows: the undo preview of backup-before-upgrade (the restore's operations with the run's
    facts), and the hint of a backup that ended PartiallyFailed (`velero backup describe …`)."""
    events = _events(sim, home_ops, "run", "backup-before-upgrade", "tautulli", "--chart-version", "3.7.2", "--yes")
    found = _check_events(events, "`mediaops run backup-before-upgrade tautulli --yes`")
    undo = _check_events(_events(sim, home_ops, "undo", "last", "--dry-run"), "`mediaops undo last --dry-run`")
    assert {" ".join(w[:3]) for w in undo} >= {"velero restore create", "flux suspend kustomization",
                                               "flux resume helmrelease"}, undo
    assert sim.run("sim", "fault", "backup-partial").returncode == 0
    failed = _events(sim, home_ops, "run", "backup-before-upgrade", "calibre-web", "--chart-version", "3.7.2",
                     "--yes", ok=False)
    hints = _check_events(failed, "`mediaops run backup-before-upgrade calibre-web --yes` (backup-partial)")
    assert any(w[:3] == ["velero", "backup", "describe"] for w in hints), [e for e in failed if "message" in e]
    assert found and undo


def test_the_namespace_wide_and_objects_only_backup_previews_parse(sim: Mediaops, home_ops: HomeOps) -> None:
    """--namespace-wide shows no --selector (it once showed `--selector <selector>`, a shell redirection);
    --objects-only shows no volume data and no policy ConfigMap, as the step runs."""
    events = _events(sim, home_ops, "run", "backup-before-upgrade", "tautulli", "--chart-version", "3.7.2",
                     "--namespace-wide", "--dry-run")
    found = _check_events(events, "`mediaops run backup-before-upgrade tautulli --namespace-wide --dry-run`")
    velero_lines = [w for w in found if w[:3] == ["velero", "backup", "create"]]
    assert velero_lines and all("--selector" not in w for w in velero_lines)
    events = _events(sim, home_ops, "run", "backup-before-upgrade", "tautulli", "--chart-version", "3.7.2",
                     "--objects-only", "--dry-run")
    found = _check_events(events, "`mediaops run backup-before-upgrade tautulli --objects-only --dry-run`")
    velero_lines = [w for w in found if w[:3] == ["velero", "backup", "create"]]
    assert velero_lines and all("--default-volumes-to-fs-backup" not in w for w in velero_lines)
    assert "--selector" in velero_lines[0]


# -- the parser itself ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("line", "why"), [
    ("flux reconcile kustomization apps -n flux-system --with-sources", "unknown flag --with-sources"),
    ("flux reconcile kustomization apps -n flux-system --force", "unknown flag --force"),
    ("flux reconcile helmrelease tautulli -n", "flag -n takes a value and has none (it is the last word)"),
    ("flux reconcile helmrelease tautulli --namespace --force", "flag --namespace takes a value and has none"),
    ("velero backup create b --include-namespaces media --selector --wait", "flag --selector takes a value"),
    ("velero backup create b --ttl 30d", "--ttl has the value '30d', not a duration"),
    ("velero restore create --from-backup b --existing-resource-policy replace", "not one of 'none', 'update'"),
    ("velero restore create r", "needs exactly one of --from-backup, --from-schedule"),
    ("velero backup create --include-namespaces media", "takes 1 positional argument(s), this has 0"),
    ("sops set --value-stdin secrets.yaml", "takes 2 positional argument(s), this has 1"),
    ("sops set --value secrets.yaml '[\"a\"]'", "flag provided but not defined: -value"),
    ("sops decrypt --extract", "flag --extract takes a value and has none"),
    ("sops set secrets.yaml --value-stdin '[\"a\"]'", "reorderArgs would read the positional arguments"),
    ("flux reconcile source apps", "unknown command 'apps' for `flux reconcile source`"),
    ("flux suspend source", "`flux suspend source` is not a command"),
])
def test_the_parser_rejects(line: str, why: str) -> None:
    with pytest.raises(Rejected, match=re.escape(why)):
        parse(shlex.split(line))


@pytest.mark.parametrize("line", [
    "flux -n media reconcile hr tautulli --with-source --force --timeout=2m",
    "flux suspend ks a b c --namespace=media",
    "flux resume --all kustomization -n media --wait=false",
    "velero backup create b -w --snapshot-volumes=false -l app=x -o yaml --namespace velero",
    "velero -n velero restore create --from-schedule daily -wn velero",
    "sops --disable-version-check decrypt --extract '[\"a\"]' secrets.yaml",
    "sops -d -i secrets.yaml",
    "sops encrypt --age age1xyz --in-place secrets.yaml",
])
def test_the_parser_accepts(line: str) -> None:
    parse(shlex.split(line))


def test_commands_are_found_inside_shell_text() -> None:
    text = ("kubectl get cm x -o yaml | kubectl apply -f - && velero backup create b --wait\n"
            "# a comment: flux is not run here\n"
            "sops set --value-stdin f '[\"i\"]' < token.json  # the value\n"
            "while ! flux reconcile source git flux-system; do sleep 1; done; FOO=1 velero restore describe r \\\n"
            "  --details")
    assert cli_commands(text) == [
        ["velero", "backup", "create", "b", "--wait"],
        ["sops", "set", "--value-stdin", "f", '["i"]'],
        ["flux", "reconcile", "source", "git", "flux-system"],
        ["velero", "restore", "describe", "r", "--details"],
    ]
