# kmodpack — the two commands a new machine needs are `make demo` and `make test`.
# Both install the system packages they use first (apt-get or dnf).

PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
DATADIR    ?= $(PREFIX)/share/kmodpack
MANDIR     ?= $(PREFIX)/share/man/man1
RPMCONFIGDIR ?= $(shell rpm --eval '%{_rpmconfigdir}' 2>/dev/null || echo /usr/lib/rpm)
CARGO      ?= cargo
BIN        := target/release/kmodpack

.PHONY: all build system-deps test demo bench fuzz install uninstall clean

all: build

build:
	$(CARGO) build --release --locked

system-deps:
	@bash tests/support/system-deps.sh

test: system-deps
	$(CARGO) test --release --locked -- --test-threads=2

demo: system-deps build
	bash tests/support/demo.sh

bench: system-deps build
	bash tests/support/bench.sh

fuzz:
	bash tests/support/fuzz.sh

clean:
	$(CARGO) clean
