#!/usr/bin/env python3
"""kefu — static checks of the container deployment in deploy/.

No Docker engine runs on the development machines, so deploy/Dockerfile,
deploy/docker-compose.yml and deploy/kefu.env.example are checked against
the build instead:

  check_deploy.py --source DIR --build DIR [--deploy DIR]
      every check below; exit 0 when all pass, 1 otherwise (each problem is
      one line on stderr, naming the file and the place)
  check_deploy.py --source DIR --build DIR --compose-config
      also parse with `docker compose config` (or Debian's docker-compose v1)
  check_deploy.py --source DIR --build DIR --self-test
      break the files in known ways, one at a time, in a copy, and require
      that each breakage is caught (a check that cannot fail is a defect)

Programs that compose names but the build does not produce yet are listed in
PENDING and reported as such on stdout instead of failing the run.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:  # pragma: no cover
    sys.stderr.write("check_deploy: PyYAML is missing (Debian: apt-get install python3-yaml; "
                     "deploy/local.sh test installs it)\n")
    sys.exit(1)

# Daemons being written (issue 5 says compose runs them); until their folder
# under services/ builds them, compose may name them and the check says so.
PENDING = set()
# Programs built but not in compose yet, each noted on stdout instead of
# failing the run.
UNDEPLOYED = set()
# The compose services every deployment has (issue 5, item 1).
REQUIRED_SERVICES = {"postgres", "migrate", "bus", "intake", "ticket-router", "approval",
                     "notifier", "survey", "gateway"}
# They take work over PUSH/PULL (the notifier claims messages in the store),
# so `--scale` starts more of them.
SCALABLE = {"ticket-router", "approval", "notifier"}
# Commands of the image's entrypoint that are scripts, not CMake programs.
ENTRYPOINT_COMMANDS = {"kefu-migrate", "kefu-health"}
# The clients: programs the image holds for people to run, not services
# (kefu for agents and approvers, kefu-admin for operators).
CLIENTS = {"kefu", "kefu-admin"}
# Variables the official postgres image reads from the shared env file.
POSTGRES_IMAGE_VARS = {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB",
                       "POSTGRES_INITDB_ARGS", "PGDATA"}
BUS_VARS = ("KEFU_BUS_PUB", "KEFU_BUS_SUB", "KEFU_BUS_PUSH", "KEFU_BUS_PULL")
# Packages of deploy/local.sh's list that are build tools, not -dev libraries.
BUILD_TOOLS = {"build-essential", "cmake", "pkg-config", "python3"}  # python3: proto/gen_model.py


_HELP = {}
_APT = {}
_NEEDED = {}


def _needed(path):
    """The NEEDED shared libraries of an ELF file (cached)."""
    if path not in _NEEDED:
        out = subprocess.run(["objdump", "-p", path], capture_output=True, text=True,
                             check=False).stdout
        _NEEDED[path] = re.findall(r"^\s+NEEDED\s+(\S+)$", out, re.M)
    return _NEEDED[path]


class Checker:
    def __init__(self, source, build, deploy):
        self.source = os.path.abspath(source)
        self.build = os.path.abspath(build)
        self.deploy = os.path.abspath(deploy)
        self.errors = []
        self.notes = []
        self._help_cache = _HELP

    # ---- reporting
    def error(self, where, message):
        self.errors.append("%s: %s" % (where, message))

    def note(self, message):
        self.notes.append(message)

    # ---- the build: programs and the settings each reads
    def cmake_programs(self):
        """kefu* executables declared in services/*/CMakeLists.txt."""
        found = {}
        root = os.path.join(self.source, "services")
        for name in sorted(os.listdir(root)):
            lists = os.path.join(root, name, "CMakeLists.txt")
            if os.path.isfile(lists):
                with open(lists, encoding="utf-8") as f:
                    for target in re.findall(r"add_executable\s*\(\s*(kefu[\w-]*)", f.read()):
                        found[target] = name
        return found

    def built_programs(self):
        """kefu* executables under the build's services/ folders."""
        found = {}
        root = os.path.join(self.build, "services")
        if not os.path.isdir(root):
            return found
        for name in sorted(os.listdir(root)):
            folder = os.path.join(root, name)
            if not os.path.isdir(folder):
                continue
            for f in os.listdir(folder):
                path = os.path.join(folder, f)
                if f.startswith("kefu") and os.path.isfile(path) and os.access(path, os.X_OK) \
                        and "." not in f:
                    found[f] = path
        return found

    def help_settings(self, argv, env=None):
        """{VARIABLE: default or None} from a program's --help."""
        key = tuple(argv)
        if key in self._help_cache:
            return self._help_cache[key]
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=20,
                                 env=env, check=False).stdout
        except (OSError, subprocess.TimeoutExpired) as e:
            self.error(" ".join(argv), "cannot run it for --help: %s" % e)
            out = ""
        settings = {}
        for line in out.splitlines():
            m = re.match(r"^\s+(KEFU_[A-Z0-9_]+|TZ)\s+(.*)$", line)
            if m:
                d = re.search(r"\(default: ([^)]*)\)\s*$", m.group(2))
                settings[m.group(1)] = None if not d or d.group(1) == "none" else d.group(1)
        self._help_cache[key] = settings
        return settings

    def script(self, name):
        return os.path.join(self.deploy, name)

    def program_settings(self, program, built):
        """What program reads, or None when it is not built."""
        if program == "kefu-migrate":
            s = dict(self.help_settings(["bash", self.script("docker-entrypoint.sh"),
                                         "kefu-migrate", "--help"]))
            s.update(self.help_settings(["bash", self.script("migrate.sh"), "--help"]))
            return s
        if program == "kefu-health":
            return self.help_settings(["bash", self.script("healthcheck.sh"), "--help"])
        if program not in built:
            return None
        return self.help_settings([built[program], "--help"])

    def common_settings(self):
        """{VARIABLE: default} every daemon reads (KF_SETTINGS_COMMON, common/config.h)."""
        with open(os.path.join(self.source, "common", "config.h"), encoding="utf-8") as f:
            return dict(re.findall(r'KF_SET_\w+\(\s*"(KEFU_[A-Z0-9_]+)",\s*"([^"]*)"', f.read()))

    # ---- compose
    def load_yaml(self, path):
        try:
            with open(path, encoding="utf-8") as f:
                return yaml.safe_load(f)
        except (OSError, yaml.YAMLError) as e:
            self.error(os.path.relpath(path, self.deploy), "does not parse as YAML: %s" %
                       str(e).replace("\n", " "))
            return None

    def load_env(self, path):
        """[(line number, name, value)] of an env file; bad lines are errors."""
        out = []
        where = os.path.basename(path)
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except OSError as e:
            self.error(where, "cannot read: %s" % e)
            return out
        for n, line in enumerate(lines, 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", line)
            if not m:
                self.error("%s:%d" % (where, n), "not VARIABLE=value: %r" % line)
                continue
            if m.group(2) != m.group(2).strip() or m.group(2)[:1] in ("'", '"'):
                self.error("%s:%d" % (where, n), "compose keeps quotes and spaces literally: %r"
                           % line)
            out.append((n, m.group(1), m.group(2)))
        return out

    @staticmethod
    def env_of(service):
        env = service.get("environment") or {}
        if isinstance(env, list):
            env = dict(e.split("=", 1) if "=" in e else (e, None) for e in env)
        return {k: (None if v is None else str(v)) for k, v in env.items()}

    @staticmethod
    def env_files(service):
        files = service.get("env_file") or []
        if isinstance(files, (str, dict)):
            files = [files]
        return [f["path"] if isinstance(f, dict) else f for f in files]

    @staticmethod
    def command_of(service):
        cmd = service.get("command")
        if isinstance(cmd, str):
            cmd = cmd.split()
        return cmd or []

    @staticmethod
    def published_ports(service):
        """[(host ip, host port or None, container port)] of service's ports."""
        out = []
        for p in service.get("ports") or []:
            if isinstance(p, dict):
                out.append((p.get("host_ip", ""), p.get("published"), p.get("target")))
                continue
            # "${KEFU_PUBLISH_INTAKE:-7700}:7700": as compose reads it with
            # the variable unset.
            text = re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}", r"\1", str(p))
            text = text.split("/")[0]
            parts = text.rsplit(":", 2) if text.count(":") >= 2 else text.split(":")
            if len(parts) == 1:
                out.append(("", None, parts[0]))
            elif len(parts) == 2:
                out.append(("", parts[0], parts[1]))
            else:
                out.append((parts[0], parts[1], parts[2]))
        return out

    @staticmethod
    def endpoint(value):
        m = re.match(r"^tcp://(\*|\[[^]]+\]|[^:/]+):(\d+)$", value or "")
        return (m.group(1), int(m.group(2))) if m else None

    def check_compose(self):
        path = self.script("docker-compose.yml")
        doc = self.load_yaml(path)
        if not isinstance(doc, dict) or not isinstance(doc.get("services"), dict):
            if doc is not None:
                self.error("docker-compose.yml", "has no services mapping")
            return
        services = doc["services"]
        for name in sorted(REQUIRED_SERVICES - set(services)):
            self.error("docker-compose.yml", "no service %s (issue 5 item 1 requires it)" % name)
        built = self.built_programs()
        cmake = self.cmake_programs()
        common = self.common_settings()
        env_example = self.script("kefu.env.example")
        env_lines = self.load_env(env_example)
        env_file_vars = {name: value for _, name, value in env_lines}
        health = self.program_settings("kefu-health", built)
        volumes = doc.get("volumes") or {}
        images = {}
        published = {}
        bus_binds = {}
        for name, svc in services.items():
            if isinstance(svc, dict) and name == "bus":
                for var in BUS_VARS:
                    bus_binds[var] = self.endpoint(self.env_of(svc).get(var))
        for name, svc in sorted(services.items()):
            where = "docker-compose.yml: services.%s" % name
            if not isinstance(svc, dict):
                self.error(where, "is not a mapping")
                continue
            if "container_name" in svc:
                self.error(where, "has container_name %r: instances need no unique names "
                           "(--scale would clash)" % svc["container_name"])
            for host_ip, host_port, container_port in self.published_ports(svc):
                if host_port is None:
                    continue
                key = (str(host_ip), str(host_port))
                if name in SCALABLE:
                    self.error(where, "publishes fixed host port %s: a second instance "
                               "(--scale %s=2) could not start" % (host_port, name))
                if key in published:
                    self.error(where, "publishes host port %s, as %s does" %
                               (host_port, published[key]))
                for other, svc_name in published.items():
                    if other[1] == key[1] and other != key and "" in (other[0], key[0]):
                        self.error(where, "publishes host port %s, as %s does" %
                                   (host_port, svc_name))
                published[key] = name
            for f in self.env_files(svc):
                if f != "kefu.env":
                    self.error(where, "env_file %s: the site's settings are kefu.env "
                               "(from kefu.env.example)" % f)
            restart = svc.get("restart")
            if name == "migrate":
                if restart not in ("no", False):
                    self.error(where, "restart is %r: the one-shot migration must not be "
                               "restarted (\"no\")" % restart)
            elif restart != "unless-stopped":
                self.error(where, "restart is %r, not unless-stopped" % restart)
            if name == "postgres":
                self.check_postgres(where, svc, volumes)
                continue
            self.check_kefu_service(where, name, svc, images, built, cmake, common,
                                    env_file_vars, health, bus_binds, services)
        if len(set(images.values())) > 1:
            self.error("docker-compose.yml", "the kefu services use different images: %s" %
                       images)
        self.check_env_example(env_lines, built)

    def check_postgres(self, where, svc, volumes):
        if not str(svc.get("image", "")).startswith("postgres:15"):
            self.error(where, "image %r is not the official postgres:15" % svc.get("image"))
        mounts = [str(v) for v in svc.get("volumes") or []]
        named = [m.split(":")[0] for m in mounts if m.endswith(":/var/lib/postgresql/data")]
        if not named or named[0] not in volumes:
            self.error(where, "/var/lib/postgresql/data is not on a named volume declared "
                       "under volumes:")
        test = (svc.get("healthcheck") or {}).get("test")
        if "pg_isready" not in " ".join(test if isinstance(test, list) else [str(test)]):
            self.error(where, "healthcheck does not run pg_isready")
        if "kefu.env" not in self.env_files(svc):
            self.error(where, "does not read kefu.env (POSTGRES_PASSWORD lives there)")

    def check_kefu_service(self, where, name, svc, images, built, cmake, common, env_file_vars,
                           health, bus_binds, services):
        build = svc.get("build")
        if isinstance(build, str):
            build = {"context": build}
        if not isinstance(build, dict):
            self.error(where, "has no build: it must be built from deploy/Dockerfile")
        else:
            context = os.path.normpath(os.path.join(self.deploy, build.get("context", ".")))
            dockerfile = os.path.normpath(os.path.join(context,
                                                       build.get("dockerfile", "Dockerfile")))
            if dockerfile != os.path.join(self.deploy, "Dockerfile"):
                self.error(where, "build uses %s, not deploy/Dockerfile" %
                           os.path.relpath(dockerfile, os.path.dirname(self.deploy)))
            if context != os.path.dirname(self.deploy):
                self.error(where, "build context %s is not the repository root (the "
                           "Dockerfile copies common/, services/ ...)" % build.get("context"))
        images[name] = svc.get("image")
        cmd = self.command_of(svc)
        program = cmd[0] if cmd else None
        if not program:
            self.error(where, "has no command: the image's entrypoint needs the program name")
            return
        pending = False
        if program in ENTRYPOINT_COMMANDS:
            pass
        elif program in built:
            if program in PENDING:
                self.note("%s is built now: remove it from PENDING in %s" %
                          (program, os.path.basename(__file__)))
        elif program in PENDING:
            pending = True
            self.note("PENDING: services.%s runs %s, which the build does not produce yet "
                      "(services/%s has no add_executable(%s)); until it does, the image "
                      "lacks it, the container exits 127 and restarts, and its healthcheck "
                      "(kefu-health %s) fails" % (name, program, program[5:], program,
                                                 program))
        elif program in cmake:
            self.error(where, "command %s is a CMake target (services/%s) but is not in %s: "
                       "build first" % (program, cmake[program],
                                        os.path.join(self.build, "services")))
        else:
            self.error(where, "command %s names no program the build produces (%s) nor an "
                       "entrypoint command (%s)" % (program, ", ".join(sorted(built)),
                                                    ", ".join(sorted(ENTRYPOINT_COMMANDS))))
        if not pending and program != "kefu-health":
            self.check_dispatch(where, program, built)
        own = self.program_settings(program, built)
        if own is None:  # pending: only what every daemon reads
            own = common
        reads = dict(health or {})
        reads.update(own)
        env = self.env_of(svc)
        for var in sorted(env):
            if var.startswith("KEFU_") and var not in reads:
                self.error(where, "sets %s, which %s does not read (its --help lists: %s)" %
                           (var, program, ", ".join(sorted(k for k in reads
                                                           if k.startswith("KEFU_")))))
        uses_env_file = "kefu.env" in self.env_files(svc)
        # A default that points at the container itself, or into the tree the
        # program was built from, is wrong in the image.
        for var, default in sorted(own.items()):
            local = default and re.match(r"^(tcp://(127\.0\.0\.1|localhost)|postgresql:///)",
                                         default)
            tree = default and (default.startswith(self.source + "/") or
                                default.startswith("/src/"))
            given = var in env or (uses_env_file and var in env_file_vars)
            if local and not given:
                self.error(where, "%s reads %s (default %s, this container itself) but compose "
                           "sets it neither in environment nor in kefu.env" %
                           (program, var, default))
            if tree and not given:
                self.error(where, "%s reads %s (default %s, a path of the build tree, absent "
                           "from the image) but compose does not set it" %
                           (program, var, default))
        if "KEFU_METRICS_BIND" in own and env.get("KEFU_METRICS_BIND") != "0.0.0.0":
            self.error(where, "%s serves /metrics but compose does not set KEFU_METRICS_BIND: "
                       "0.0.0.0 (a Prometheus on the network could not scrape it)" % program)
        for var, value in sorted(env.items()):
            m = re.match(r"^/usr/share/kefu/([^/]+)", value or "")
            if m and "/out/share/kefu/" + m.group(1) not in self.dockerfile_build_text():
                self.error(where, "%s=%s: the Dockerfile installs no %s under /usr/share/kefu"
                           % (var, value, m.group(1)))
        if program == "kefu-migrate":
            deps = svc.get("depends_on") or {}
            cond = deps.get("postgres", {}).get("condition") if isinstance(deps, dict) else None
            if cond != "service_healthy":
                self.error(where, "must depend on postgres with condition service_healthy")
            return
        self.check_endpoints(where, name, env, bus_binds, services)
        if name != "bus":
            deps = svc.get("depends_on") or {}
            cond = deps.get("migrate", {}).get("condition") if isinstance(deps, dict) else None
            if cond != "service_completed_successfully":
                self.error(where, "must depend on migrate with condition "
                           "service_completed_successfully (the schema first)")
        hc = svc.get("healthcheck") or {}
        test = hc.get("test")
        if hc.get("disable") or not isinstance(test, list) or len(test) < 3 \
                or test[0] != "CMD" or test[1] != "kefu-health" or test[2] != program:
            self.error(where, "healthcheck must be [CMD, kefu-health, %s], is %r" %
                       (program, test))

    def check_dispatch(self, where, program, built):
        """The image's entrypoint runs program for the command (simulated with
        the built programs on PATH)."""
        with tempfile.TemporaryDirectory() as bindir:
            for prog, path in built.items():
                os.symlink(path, os.path.join(bindir, prog))
            env = dict(os.environ, PATH=bindir + ":" + os.environ.get("PATH", ""))
            r = subprocess.run(["bash", self.script("docker-entrypoint.sh"), program, "--help"],
                               capture_output=True, text=True, timeout=20, env=env, check=False)
        if r.returncode != 0 or "Usage" not in r.stdout:
            self.error(where, "the entrypoint does not run %s (`kefu-entrypoint %s --help` "
                       "exited %d: %s)" % (program, program, r.returncode,
                                           (r.stderr or r.stdout).strip()[:200]))

    def check_endpoints(self, where, name, env, bus_binds, services):
        for var in BUS_VARS:
            value = env.get(var)
            if value is None:
                self.error(where, "does not set %s (the bus is another container)" % var)
                continue
            ep = self.endpoint(value)
            bind = bus_binds.get(var)
            if ep is None:
                self.error(where, "%s=%s is not tcp://HOST:PORT" % (var, value))
            elif name == "bus":
                if ep[0] not in ("*", "0.0.0.0"):
                    self.error(where, "%s=%s: the bus must bind all interfaces (tcp://*:PORT)"
                               % (var, value))
            elif ep[0] not in services:
                self.error(where, "%s=%s: %s is not a compose service" % (var, value, ep[0]))
            elif ep[0] != "bus" or bind is None or ep[1] != bind[1]:
                self.error(where, "%s=%s does not reach the bus, which binds %s" %
                           (var, value, services["bus"].get("environment", {}).get(var)))
        for var, value in env.items():
            if var.endswith("_BIND") and value and value.startswith("tcp://"):
                ep = self.endpoint(value)
                if ep is None or ep[0] not in ("*", "0.0.0.0"):
                    self.error(where, "%s=%s: a daemon in a container must bind tcp://*:PORT "
                               "to be reachable" % (var, value))
                    continue
                container_ports = {str(c) for _, _, c in
                                   self.published_ports(services.get(name, {}))}
                if name not in SCALABLE and container_ports and str(ep[1]) not in \
                        container_ports:
                    self.error(where, "%s binds port %d, but ports publishes %s" %
                               (var, ep[1], sorted(container_ports)))

    def check_env_example(self, env_lines, built):
        readers = {}
        for program in sorted(built):
            for var in self.program_settings(program, built) or {}:
                readers.setdefault(var, program)
        for program in ENTRYPOINT_COMMANDS:
            for var in self.program_settings(program, built) or {}:
                readers.setdefault(var, program)
        seen = set()
        for n, var, _ in env_lines:
            where = "kefu.env.example:%d" % n
            if var in seen:
                self.error(where, "%s is set twice" % var)
            seen.add(var)
            if var in POSTGRES_IMAGE_VARS:
                continue
            if var not in readers:
                self.error(where, "%s is read by no program of the image (nor the postgres "
                           "image)" % var)
        for var in ("POSTGRES_PASSWORD", "KEFU_DATABASE_URL"):
            if var not in seen:
                self.error("kefu.env.example", "does not set %s" % var)
        ignore = self.script(".gitignore")
        try:
            with open(ignore, encoding="utf-8") as f:
                if "kefu.env" not in f.read().split():
                    raise OSError("kefu.env is not listed")
        except OSError as e:
            self.error("deploy/.gitignore", "must keep kefu.env (the site's password) out of "
                       "git: %s" % e)

    # ---- Dockerfile
    def dockerfile_build_text(self):
        stages = self.dockerfile_stages()
        return " ".join(rest for word, rest in stages[0]["lines"] if word == "RUN") \
            if stages else ""

    def dockerfile_stages(self):
        path = self.script("Dockerfile")
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            self.error("Dockerfile", "cannot read: %s" % e)
            return []
        text = re.sub(r"\\\n", " ", text)
        stages = []
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            word, _, rest = line.partition(" ")
            word = word.upper()
            if word == "FROM":
                parts = rest.split()
                stages.append({"from": parts[0], "name": parts[2] if len(parts) > 2 else None,
                               "lines": []})
            elif stages:
                stages[-1]["lines"].append((word, rest.strip()))
        return stages

    @staticmethod
    def apt_packages(stage):
        packages = []
        for word, rest in stage["lines"]:
            if word != "RUN":
                continue
            for m in re.finditer(r"apt-get\s+install\s+([^&;|]*)", rest):
                packages += [p for p in m.group(1).split() if not p.startswith("-")]
        return packages

    def check_dockerfile(self, built):
        stages = self.dockerfile_stages()
        if len(stages) < 2:
            self.error("Dockerfile", "is not multi-stage (build and runtime)")
            return
        first, last = stages[0], stages[-1]
        if first["from"] != "debian:12":
            self.error("Dockerfile", "build stage is FROM %s, not debian:12" % first["from"])
        if last["from"] != "debian:12-slim":
            self.error("Dockerfile", "runtime stage is FROM %s, not debian:12-slim" %
                       last["from"])
        users = [rest for word, rest in last["lines"] if word == "USER"]
        if not users or users[-1].split(":")[0] in ("root", "0"):
            self.error("Dockerfile", "runtime stage does not run as a non-root USER (%s)" %
                       (users[-1] if users else "no USER"))
        entry = [rest for word, rest in last["lines"] if word == "ENTRYPOINT"]
        if not entry or "kefu-entrypoint" not in entry[-1]:
            self.error("Dockerfile", "ENTRYPOINT is not kefu-entrypoint")
        for word, rest in first["lines"]:
            if word == "COPY" and "--from" not in rest:
                for src in rest.split()[:-1]:
                    if not os.path.exists(os.path.join(self.source, src)):
                        self.error("Dockerfile", "COPY %s: no such path in the tree" % src)
        build_text = " ".join(rest for word, rest in first["lines"] if word == "RUN")
        for script in ("docker-entrypoint.sh", "healthcheck.sh", "migrate.sh", "migrations"):
            if "deploy/" + script not in build_text:
                self.error("Dockerfile", "does not install deploy/%s" % script)
        build_pkgs = self.apt_packages(first)
        runtime_pkgs = self.apt_packages(last)
        for p in runtime_pkgs:
            if p.endswith("-dev") or p in BUILD_TOOLS:
                self.error("Dockerfile", "runtime stage installs build package %s" % p)
        for p in sorted(set(self.local_sh_packages()) - set(build_pkgs)):
            if p.endswith("-dev") or p in BUILD_TOOLS:
                self.error("Dockerfile", "build stage lacks %s (deploy/local.sh builds with it)"
                           % p)
        self.check_debian_packages(build_pkgs + runtime_pkgs)
        self.check_runtime_libraries(runtime_pkgs, built)

    def local_sh_packages(self):
        with open(os.path.join(self.source, "deploy", "local.sh"), encoding="utf-8") as f:
            m = re.search(r"^PACKAGES=\(([^)]*)\)", f.read(), re.M)
        return m.group(1).split() if m else []

    def debian12(self):
        try:
            with open("/etc/os-release", encoding="utf-8") as f:
                text = f.read()
        except OSError:
            return False
        return "ID=debian" in text and 'VERSION_ID="12"' in text

    def check_debian_packages(self, packages):
        if not self.debian12() or not shutil.which("apt-cache"):
            self.note("not Debian 12: the Dockerfile's package names were not looked up")
            return
        wanted = sorted(set(packages) - set(_APT))
        if wanted:
            r = subprocess.run(["apt-cache", "show", "--no-all-versions"] + wanted,
                               capture_output=True, text=True, timeout=120, check=False)
            found = set(re.findall(r"^Package: (\S+)$", r.stdout, re.M))
            for p in wanted:
                _APT[p] = p in found
        for p in sorted(set(packages)):
            if not _APT[p]:
                self.error("Dockerfile", "%s is not a Debian 12 package (apt-cache show)" % p)

    def check_runtime_libraries(self, runtime_pkgs, built):
        """Each shared library a built program needs comes from a package the
        runtime stage installs (or from libc6, in every image)."""
        if not self.debian12() or not shutil.which("dpkg") or not shutil.which("objdump"):
            self.note("not Debian 12: the runtime libraries were not checked")
            return
        ldconfig = subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, text=True,
                                  check=False).stdout
        paths = {}
        for line in ldconfig.splitlines():
            m = re.match(r"^\s+(\S+) \(([^)]*)\) => (\S+)$", line)
            if m and "x86-64" in m.group(2):
                paths.setdefault(m.group(1), m.group(3))
        allowed = set(runtime_pkgs) | {"libc6"}
        owned = set()
        for pkg in allowed:
            for arch in ("", ":amd64", ":" + os.uname().machine.replace("x86_64", "amd64")):
                try:
                    with open("/var/lib/dpkg/info/%s%s.list" % (pkg, arch),
                              encoding="utf-8") as f:
                        owned.update(line.strip() for line in f)
                except OSError:
                    pass
        for program, path in sorted(built.items()):
            for lib in _needed(path):
                lib_path = paths.get(lib)
                if not lib_path:
                    self.error("Dockerfile", "%s needs %s, which ldconfig does not know" %
                               (program, lib))
                    continue
                real = os.path.realpath(lib_path)
                candidates = {lib_path, real}
                for c in list(candidates):  # merged /usr: /lib is /usr/lib
                    if c.startswith("/usr/lib/"):
                        candidates.add(c[4:])
                    elif c.startswith("/lib/"):
                        candidates.add("/usr" + c)
                if not candidates & owned:
                    owner = subprocess.run(["dpkg", "-S"] + sorted(candidates),
                                           capture_output=True, text=True,
                                           check=False).stdout.split(":")[0].strip()
                    self.error("Dockerfile", "%s needs %s from package %s, which the runtime "
                               "stage does not install" % (program, lib, owner or "(none)"))

    # ---- every variable is documented (issue 5, item 5)
    def check_docs(self, built):
        texts = []
        for path in (os.path.join(self.source, "README.md"), self.script("README.md")):
            try:
                with open(path, encoding="utf-8") as f:
                    texts.append(f.read())
            except OSError as e:
                self.error(os.path.relpath(path, os.path.dirname(self.deploy)),
                           "cannot read: %s" % e)
        text = "\n".join(texts)
        readers = {}
        for program in sorted(built) + sorted(ENTRYPOINT_COMMANDS):
            for var in self.program_settings(program, built) or {}:
                readers.setdefault(var, program)
        for var, program in sorted(readers.items()):
            if "`%s`" % var not in text:
                self.error("deploy/README.md", "%s (read by %s) is documented in neither "
                           "README.md's configuration table nor deploy/README.md's" %
                           (var, program))

    # ---- everything built is deployed
    def check_coverage(self, built):
        path = self.script("docker-compose.yml")
        try:
            with open(path, encoding="utf-8") as f:
                doc = yaml.safe_load(f)
            commands = {self.command_of(s)[0] for s in doc["services"].values()
                        if isinstance(s, dict) and self.command_of(s)}
        except Exception:  # reported by check_compose
            return
        for program in sorted(self.cmake_programs()):
            if program in UNDEPLOYED and program not in commands:
                self.note("UNDEPLOYED: no compose service runs %s yet" % program)
            elif program not in CLIENTS and program not in commands:
                self.error("docker-compose.yml", "no service runs %s, which the build "
                           "produces" % program)

    def run(self):
        built = self.built_programs()
        if not built:
            self.error(self.build, "no programs under services/: build first")
        self.check_compose()
        self.check_dockerfile(built)
        self.check_coverage(built)
        self.check_docs(built)
        return not self.errors


def compose_config(deploy):
    """Parses the compose file with docker compose (v2) or docker-compose (v1)
    in a copy, with kefu.env made from the example. Returns error lines."""
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"],
                                                 capture_output=True, check=False).returncode == 0:
        tool = ["docker", "compose"]
    elif shutil.which("docker-compose"):
        tool = ["docker-compose"]
    else:
        return ["neither `docker compose` nor docker-compose is installed (Debian: apt-get "
                "install docker-compose; deploy/local.sh test installs it)"]
    with tempfile.TemporaryDirectory() as tmp:
        d = os.path.join(tmp, "deploy")
        os.mkdir(d)
        shutil.copy(os.path.join(deploy, "docker-compose.yml"), d)
        shutil.copy(os.path.join(deploy, "kefu.env.example"), os.path.join(d, "kefu.env"))
        r = subprocess.run(tool + ["-p", "kefu", "config", "-q"], cwd=d, capture_output=True,
                           text=True, timeout=120, check=False)
        if r.returncode != 0:
            return ["%s config: %s" % (" ".join(tool), (r.stderr or r.stdout).strip())]
        print("check_deploy: `%s config` accepts docker-compose.yml" % " ".join(tool))
    return []


# ---- self-test: each mutation must be caught -----------------------------------------
# (file, old text, new text, a fragment the error must contain)
MUTATIONS = [
    ("docker-compose.yml", "  bus:\n    <<: *kefu", "  bus:\n   <<: *kefu", "does not parse"),
    ("docker-compose.yml", 'command: ["kefu-intake"]', 'command: ["kefu-intaek"]',
     "names no program"),
    ("docker-compose.yml", "      KEFU_INTAKE_BIND: tcp://*:7700",
     "      KEFU_INTAKE_BIND: tcp://*:7700\n      KEFU_INTAKE_BACTH: \"8\"",
     "does not read"),
    ("kefu.env.example", "KEFU_LOG_LEVEL=info", "KEFU_LOG_LEVEL=info\nKEFU_LOGLEVEL=debug",
     "read by no program"),
    ("kefu.env.example", "KEFU_LOG_LEVEL=info", 'KEFU_LOG_LEVEL="info"', "quotes"),
    ("docker-compose.yml", '    command: ["kefu-router"]',
     '    command: ["kefu-router"]\n    ports:\n      - "7799:7799"', "fixed host port"),
    ("docker-compose.yml", '    command: ["kefu-router"]',
     '    command: ["kefu-router"]\n    container_name: kefu-router', "container_name"),
    ("docker-compose.yml", '    command: ["kefu-bus"]',
     '    command: ["kefu-bus"]\n    ports:\n      - "7700:7701"', "publishes host port 7700"),
    ("docker-compose.yml", "KEFU_INTAKE_BIND: tcp://*:7700",
     "KEFU_INTAKE_BIND: tcp://127.0.0.1:7700", "must bind"),
    ("docker-compose.yml", "KEFU_INTAKE_BIND: tcp://*:7700", "KEFU_INTAKE_BIND: tcp://*:7710",
     "but ports publishes"),
    ("docker-compose.yml", "  KEFU_BUS_PULL: tcp://bus:7704", "  KEFU_BUS_PULL: tcp://bus:7799",
     "does not reach the bus"),
    ("docker-compose.yml", "  KEFU_BUS_PULL: tcp://bus:7704",
     "  KEFU_BUS_PULL: tcp://busy:7704", "not a compose service"),
    ("docker-compose.yml", '    command: ["kefu-migrate"]\n    restart: "no"',
     '    command: ["kefu-migrate"]\n    restart: always', "must not be restarted"),
    ("docker-compose.yml", 'test: ["CMD", "kefu-health", "kefu-intake"]',
     'test: ["CMD", "kefu-health", "kefu-bus"]', "healthcheck must be"),
    ("docker-compose.yml", "dockerfile: deploy/Dockerfile", "dockerfile: deploy/Dockerfile.old",
     "not deploy/Dockerfile"),
    ("docker-compose.yml", "      test: [\"CMD-SHELL\", \"pg_isready",
     "      test: [\"CMD-SHELL\", \"true || pg_isredy", "pg_isready"),
    ("docker-compose.yml", "    image: postgres:15", "    image: postgres:16", "postgres:15"),
    ("docker-compose.yml", "      - pgdata:/var/lib/postgresql/data",
     "      - /srv/pg:/var/lib/postgresql/data", "named volume"),
    ("docker-compose.yml", "    condition: service_completed_successfully",
     "    condition: service_started", "service_completed_successfully"),
    ("docker-compose.yml", "  env_file: kefu.env\n  init: true", "  init: true",
     "sets it neither"),
    ("docker-compose.yml", "  ticket-router:\n", "  router:\n", "no service ticket-router"),
    ("Dockerfile", "USER kefu:kefu", "USER root", "non-root"),
    ("Dockerfile", "USER kefu:kefu\n", "", "non-root"),
    ("Dockerfile", "FROM debian:12-slim AS runtime", "FROM debian:12 AS runtime",
     "debian:12-slim"),
    ("Dockerfile", "libczmq4 ", "libczmq4-runtime ", "not a Debian 12 package"),
    ("Dockerfile", "libjansson4 ", "", "which the runtime stage does not install"),
    ("Dockerfile", "libpq-dev ", "", "build stage lacks libpq-dev"),
    ("Dockerfile", "        libzmq5 ", "        libzmq3-dev libzmq5 ", "runtime stage installs"),
    ("Dockerfile", "COPY services services", "COPY service services", "no such path"),
    ("Dockerfile", "install -m 0755 deploy/healthcheck.sh", "install -m 0755 deploy/health.sh",
     "deploy/healthcheck.sh"),
    ("docker-entrypoint.sh", "    kefu|kefu-*) run", "    kefu) run", "does not run kefu-bus"),
    (".gitignore", "kefu.env", "kefu.env.bak", "out of git"),
    ("docker-compose.yml", "      KEFU_NOTIFY_TEMPLATES: /usr/share/kefu/templates\n", "",
     "a path of the build tree"),
    ("docker-compose.yml", "KEFU_NOTIFY_TEMPLATES: /usr/share/kefu/templates",
     "KEFU_NOTIFY_TEMPLATES: /usr/share/kefu/tpl", "installs no tpl"),
    ("docker-compose.yml", "      <<: [*bus, *metrics]\n      KEFU_INTAKE_BIND",
     "      <<: *bus\n      KEFU_INTAKE_BIND", "KEFU_METRICS_BIND"),
    ("docker-compose.yml", "      KEFU_SURVEY_BIND: tcp://*:7710\n", "", "this container itself"),
    ("README.md", "| `KEFU_NOTIFY_POLL_MS` |", "| KEFU_NOTIFY_POLL_MS |",
     "KEFU_NOTIFY_POLL_MS (read by kefu-notifier) is documented in neither"),
]


def self_test(source, build, deploy):
    failures = 0
    files = ("docker-compose.yml", "kefu.env.example", "Dockerfile", "docker-entrypoint.sh",
             "healthcheck.sh", "migrate.sh", ".gitignore", "README.md")
    baseline = Checker(source, build, deploy)
    if not baseline.run():
        print("self-test: the real files do not pass; fix them first:", file=sys.stderr)
        for e in baseline.errors:
            print("  " + e, file=sys.stderr)
        return 1
    for i, (name, old, new, expect) in enumerate(MUTATIONS, 1):
        with tempfile.TemporaryDirectory() as tmp:
            d = os.path.join(tmp, "deploy")
            os.mkdir(d)
            for f in files:
                shutil.copy(os.path.join(deploy, f), d)
            os.symlink(os.path.join(deploy, "migrations"), os.path.join(d, "migrations"))
            path = os.path.join(d, name)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            if old not in text:
                print("self-test %d: %s no longer contains %r; update the mutation" %
                      (i, name, old), file=sys.stderr)
                failures += 1
                continue
            with open(path, "w", encoding="utf-8") as f:
                f.write(text.replace(old, new, 1))
            c = Checker(source, build, d)
            c.run()
            caught = [e for e in c.errors if expect in e]
            if caught:
                print("self-test %d caught: %s" % (i, caught[0]))
            else:
                failures += 1
                print("self-test %d NOT caught: %s: %r -> %r (expected an error with %r; got "
                      "%s)" % (i, name, old, new, expect, c.errors or "no error"),
                      file=sys.stderr)
    print("self-test: %d mutations, %d caught, %d missed" %
          (len(MUTATIONS), len(MUTATIONS) - failures, failures))
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--deploy", help="the deploy folder to check (default SOURCE/deploy)")
    ap.add_argument("--compose-config", action="store_true")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    deploy = args.deploy or os.path.join(args.source, "deploy")
    if args.self_test:
        return self_test(args.source, args.build, deploy)
    c = Checker(args.source, args.build, deploy)
    ok = c.run()
    if args.compose_config and ok:
        for e in compose_config(deploy):
            c.error("docker-compose.yml", e)
    for n in c.notes:
        print("check_deploy: " + n)
    for e in c.errors:
        print("check_deploy: " + e, file=sys.stderr)
    if c.errors:
        print("check_deploy: %d problem(s)" % len(c.errors), file=sys.stderr)
        return 1
    print("check_deploy: deploy/ is consistent with the build")
    return 0


if __name__ == "__main__":
    sys.exit(main())
