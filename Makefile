# Vestnik: `make run` to try it, `make test` to check it. Only Python 3.11 and make needed.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Settings read it: development links (BASE_URL) follow the port served.
export PORT
# xstatic-bootstrap ships only an sdist whose build needs setuptools' pkg_resources.
PIP_INSTALL := $(BIN)/pip install --quiet --build-constraint build-constraints.txt

.PHONY: run test smoke stress bench lint check messages requirements clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.3"

# Reinstall only when the pins change.
$(VENV)/.installed: requirements.txt requirements-dev.txt build-constraints.txt | $(BIN)/python
	$(PIP_INSTALL) -r requirements.txt -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

# One task worker: on the embedded SQLite two of them indexed the same demo page for
# search at once and one failed on the index's unique key (a traceback at every start).
# The system checks run once, in runserver: migrate, seed_demo and run_huey printed
# the same check messages again each (a webhook routes note three or four times).
run: venv
	$(BIN)/python manage.py migrate --noinput --skip-checks
	$(BIN)/python manage.py seed_demo --skip-checks
	@echo "Vestnik on http://127.0.0.1:$(PORT)/ (Ctrl-C stops the web server and the task consumer)"
	@trap 'kill 0' INT TERM; \
	$(BIN)/python manage.py run_huey --workers 1 --skip-checks & \
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT) & \
	$(BIN)/python manage.py dev_banner --wait 300 & \
	wait

# Two worker processes (pytest-xdist), each with its own test database and Redis
# database (site_config/settings/xdist_worker.py). Tests are dealt out in pytest-django's
# order (transactional ones after the rest), heaviest first (tests/conftest.py); a file
# whose module fixture is slow to build is one xdist_group. The order must not be
# regrouped by size. TEST_WORKERS=0 runs the suite in this one process (for --pdb);
# the default is two (on two cores the suite takes about half the time).
TEST_WORKERS ?= 2
test: venv
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder \
		$(PYTEST_ARGS)

smoke: venv
	$(BIN)/python -m pytest -m smoke $(PYTEST_ARGS)

# Measurements, not pass/fail: one script a line, each prints ratios measured in one
# run (quote those; absolute rates depend on the shared machine).
bench: venv
	$(BIN)/python benchmarks/pages.py
	$(BIN)/python benchmarks/sending.py
	$(BIN)/python benchmarks/sending_groups.py
	$(BIN)/python benchmarks/smtp_wire.py
	$(BIN)/python benchmarks/spam.py
	$(BIN)/python benchmarks/events.py
	$(BIN)/python benchmarks/webhooks.py
	$(BIN)/python benchmarks/reports.py --keep
	$(BIN)/python benchmarks/manager_wide.py --keep
	$(BIN)/python benchmarks/api.py
	$(BIN)/python benchmarks/audience.py

# Heavy proofs (many consumer kills, the whole hostile corpus, the public pages under
# load while a mailing sends): minutes, outside `make test`. README "make stress".
stress: venv
	$(BIN)/python -m pytest -m stress -p no:cacheprovider -s $(PYTEST_ARGS)
	$(BIN)/python -m benchmarks.load

lint: venv
	$(BIN)/ruff check .
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

# Refresh the catalogues after changing user-facing strings (needs gettext's msgfmt).
# Each app keeps its own catalogue; the top-level one (templates/, site_config/)
# skips the app folders so no string lands in two catalogues.
APPS := accounts mailing home blog archive
MESSAGES_IGNORE := --ignore=.venv --ignore=staticfiles --ignore=media --ignore=tests \
	--ignore=benchmarks $(addprefix --ignore=,$(APPS))
messages: venv
	for app in $(APPS); do \
		mkdir -p $$app/locale && \
		(cd $$app && ../$(BIN)/python ../manage.py makemessages -l ru -l en) || exit 1; \
	done
	mkdir -p locale
	$(BIN)/python manage.py makemessages -l ru -l en $(MESSAGES_IGNORE)
	$(BIN)/python manage.py compilemessages --ignore=.venv

requirements: venv
	PIP_BUILD_CONSTRAINT=build-constraints.txt $(BIN)/pip-compile -q --strip-extras \
		--no-emit-index-url --no-emit-find-links -o requirements.txt requirements.in
	PIP_BUILD_CONSTRAINT=build-constraints.txt $(BIN)/pip-compile -q --strip-extras \
		--no-emit-index-url --no-emit-find-links -o requirements-dev.txt requirements-dev.in

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
