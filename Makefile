# The kit's commands. On a fresh clone the first one creates .venv and installs the kit.
#   make lab-5            start lab 5, show who answers, leave it running
#   make check-lab-5      check your version of lab 5's exercise (SOLUTION=1: the reference; HINT=2: more help)
#   make load-5           put running lab 5 under load with Locust (USERS= TIME= FRONTEND= IMPATIENT=1 UI=1)
#   make down             stop every lab the kit started (make down-5: lab 5 only)
#   make doctor           what this machine has for the labs, and how to get the rest
#   make images-save FILE=x.tar.gz / images-load FILE=x.tar.gz   images for a room without internet
#   make test             every test, in every runtime this machine has
#   make soak N=10        the whole suite N times in a row; every failure named
#   make mutants          each lab's tests on the wrong configs its lab.toml lists: all must fail
#   make bench            how long labs take to start, and the suite to run, in each runtime
# RUNTIME=auto|docker|local picks where labs run (auto: Docker when an engine answers and
# can get the labs' images, else local).

PYTHON  ?= python3
VENV    := .venv
LABKIT  := $(VENV)/bin/labkit
RUNTIME ?= auto
export RUNTIME
# After the workers, in one process, the tests that need the machine to itself
# (labkit/pytest_plugin.py: ALONE_PASS).
ALONE_PASS := -n 0 -m alone tests/test_workshop.py
# Debian installs haproxy (and debootstrap) in /usr/sbin, off a normal user's PATH.
export PATH := $(PATH):/usr/sbin:/usr/local/sbin
# mkdocs-material's notice about its successor is not for learners building these docs.
export NO_MKDOCS_2_WARNING := 1

# A kit folder copied with its .venv (cp -r kit kit2) would run the original's Python and
# packages, and pip would repoint the original's install at the copy: the copy makes its
# own .venv instead, and leaves the original's alone. pyvenv.cfg names the folder a .venv
# was made for.
VENV_MADE_FOR := $(shell sed -n 's/^command = .* -m venv //p' $(VENV)/pyvenv.cfg 2>/dev/null)
ifneq ($(VENV_MADE_FOR),)
ifneq ($(VENV_MADE_FOR),$(CURDIR)/$(VENV))
$(info $(VENV) was made for $(VENV_MADE_FOR), not this folder: making this folder's own.)
$(shell rm -rf $(VENV))
endif
endif

.PHONY: help down status list doctor images images-save images-load test soak mutants bench docs serve docs-outputs

help:
	@sed -n 's/^#   //p' Makefile
	@echo
	@echo "Labs:"
	@$(MAKE) --no-print-directory list

$(VENV)/.installed: pyproject.toml scripts/constraints.txt
	@echo "Setting up $(VENV) (once) ..."
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
		echo "The kit needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) --version 2>&1 | head -n 1)."; \
		echo "Install one (Ubuntu 22.04: sudo apt-get install python3.11 python3.11-venv), then: make PYTHON=python3.11 ..."; exit 1; }
	@rm -rf $(VENV)
	@$(PYTHON) scripts/labkit/system.py python3-venv "Making $(VENV) needs Python's venv module"
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
		echo "Could not create a virtual environment with $(PYTHON)."; \
		echo "Debian/Ubuntu: sudo apt-get install python3-venv"; exit 1; }
	@$(VENV)/bin/pip install --quiet --disable-pip-version-check -c scripts/constraints.txt -e . \
		|| { rm -rf $(VENV); echo "Installing the kit's Python packages failed (see above)."; exit 1; }
	@touch $@

lab-%: $(VENV)/.installed
	@$(LABKIT) run $* $(if $(REQUESTS),--requests $(REQUESTS))

# An exercise: your copy is labs/NN-*/exercise/haproxy.cfg; SOLUTION=1 checks the reference,
# HINT=2 adds the hints nearer the answer.
check-lab-%: $(VENV)/.installed
	@$(LABKIT) exercise $* $(if $(SOLUTION),--solution) $(if $(HINT),--hint $(HINT))

# RATE: users started per second. IMPATIENT=1: users that never pause (the most it can do).
# UI=1: Locust's web UI on 127.0.0.1:8089 instead of a table.
load-%: $(VENV)/.installed
	@$(LABKIT) load $* $(if $(USERS),--users $(USERS)) $(if $(RATE),--rate $(RATE)) $(if $(TIME),--time $(TIME)) \
		$(if $(FRONTEND),--frontend $(FRONTEND)) $(if $(IMPATIENT),--impatient) $(if $(UI),--ui)

down: $(VENV)/.installed
	@$(LABKIT) down

down-%: $(VENV)/.installed
	@$(LABKIT) down $*

status: $(VENV)/.installed
	@$(LABKIT) status

list: $(VENV)/.installed
	@$(LABKIT) list

# A workshop room without internet: build and save on a connected machine, load in the room.
images: $(VENV)/.installed
	@$(LABKIT) images build

images-save: $(VENV)/.installed
	@test -n "$(FILE)" || { echo "Say where: make images-save FILE=labkit-images.tar.gz"; exit 2; }
	@$(LABKIT) images save "$(FILE)"

images-load: $(VENV)/.installed
	@test -n "$(FILE)" || { echo "Say which: make images-load FILE=labkit-images.tar.gz"; exit 2; }
	@$(LABKIT) images load "$(FILE)"

doctor: $(VENV)/.installed
	@$(LABKIT) doctor

test: $(VENV)/.installed
	@$(LABKIT) prepare-tests --runtime $(RUNTIME)
	$(VENV)/bin/pytest --runtime $(RUNTIME)
	$(VENV)/bin/pytest --runtime $(RUNTIME) $(ALONE_PASS)

# The flakiness budget: the whole suite N times in a row (default 10), every failure named.
soak: $(VENV)/.installed
	@$(LABKIT) prepare-tests --runtime $(RUNTIME)
	@$(LABKIT) soak $(or $(N),10) --runtime $(RUNTIME)

# LABS=5 7 limits it to some labs.
mutants: $(VENV)/.installed
	@$(LABKIT) mutants $(LABS)

# SUITE=0 leaves out the suite's time, LOAD=0 Locust's throughput; LABS="5 7" times only those labs.
bench: $(VENV)/.installed
	@$(LABKIT) bench --runtime $(RUNTIME) $(if $(filter 0,$(SUITE)),--no-suite) $(if $(filter 0,$(LOAD)),--no-load) $(LABS)

docs: $(VENV)/.installed
	@$(LABKIT) docs-assets
	$(VENV)/bin/mkdocs build --strict

serve: $(VENV)/.installed
	@$(LABKIT) docs-assets
	$(VENV)/bin/mkdocs serve --dev-addr 127.0.0.1:8000

# The outputs the docs pages show, recorded from real runs of every lab (then commit them).
# LABKIT_BASE=debian: the Docker tabs show the offline base's HAProxy 3.0 wherever they are recorded.
docs-outputs: $(VENV)/.installed
	LABKIT_BASE=debian $(VENV)/bin/pytest labs tests/test_lab_commands.py tests/test_workshop.py tests/test_messages.py \
		-k "test_make_lab_shows or test_doctor_tells_the_truth_here or test_messages" \
		--runtime auto --update-outputs -n 0
