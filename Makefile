# Build release binaries and install bbcs under a prefix, for a deployment or a package:
#
#   make install                                  # into /usr/local, configuration in /etc/bbcs
#   make install PREFIX=/usr DESTDIR=debian/bbcs  # staged, for a package
#
# Installs bbcsd (sbin) and bbcsctl (bin), the schema and the shipped plan
# (share/bbcs), the example configuration (SYSCONFDIR/bbcs/bbcsd.toml, kept if present),
# systemd units with this prefix, sysusers.d and tmpfiles.d files, man pages bbcsd(8) and
# bbcsctl(1), and bash and zsh completions. `make uninstall` removes them again (not the
# configuration).

PREFIX ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc
CONFIGURATION ?= release
SWIFT ?= swift
# Where SwiftPM builds; the tests install from a scratch folder of their own, since the one
# `swift test` uses is locked while it runs.
SCRATCH ?= .build

BINDIR = $(PREFIX)/bin
SBINDIR = $(PREFIX)/sbin
SHAREDIR = $(PREFIX)/share/bbcs
MANDIR = $(PREFIX)/share/man
UNITDIR = $(PREFIX)/lib/systemd/system
SYSUSERSDIR = $(PREFIX)/lib/sysusers.d
TMPFILESDIR = $(PREFIX)/lib/tmpfiles.d
BASHDIR = $(PREFIX)/share/bash-completion/completions
ZSHDIR = $(PREFIX)/share/zsh/site-functions
DOCDIR = $(PREFIX)/share/doc/bbcs

BUILD = $(SCRATCH)/$(CONFIGURATION)
MAN = $(BUILD)/man

.PHONY: all build man install uninstall

all: build

build:
	$(SWIFT) build -c $(CONFIGURATION) --scratch-path $(SCRATCH) --product bbcsd
	$(SWIFT) build -c $(CONFIGURATION) --scratch-path $(SCRATCH) --product bbcsctl

# swift-argument-parser's generate-manual turns each command's help into a man page.
man: build
	$(SWIFT) build -c $(CONFIGURATION) --scratch-path $(SCRATCH) --product generate-manual
	mkdir -p $(MAN)
	$(BUILD)/generate-manual $(BUILD)/bbcsd --section 8 --authors "bbcs" --output-directory $(MAN)
	$(BUILD)/generate-manual $(BUILD)/bbcsctl --section 1 --authors "bbcs" --output-directory $(MAN)

install: build man
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SHAREDIR)/Schema $(DESTDIR)$(SHAREDIR)/Config/plans \
		$(DESTDIR)$(SYSCONFDIR)/bbcs $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(BASHDIR) $(DESTDIR)$(ZSHDIR) $(DESTDIR)$(DOCDIR)
	install -m 0755 $(BUILD)/bbcsd $(DESTDIR)$(SBINDIR)/bbcsd
	install -m 0755 $(BUILD)/bbcsctl $(DESTDIR)$(BINDIR)/bbcsctl
	install -m 0644 Schema/*.sql $(DESTDIR)$(SHAREDIR)/Schema/
	install -m 0644 Config/plans/* $(DESTDIR)$(SHAREDIR)/Config/plans/
	test -e $(DESTDIR)$(SYSCONFDIR)/bbcs/bbcsd.toml || \
		sed -e 's|/usr/local/share/bbcs|$(SHAREDIR)|g' Config/bbcsd.toml > $(DESTDIR)$(SYSCONFDIR)/bbcs/bbcsd.toml
	chmod 0640 $(DESTDIR)$(SYSCONFDIR)/bbcs/bbcsd.toml
	install -m 0644 $(MAN)/bbcsd.8 $(DESTDIR)$(MANDIR)/man8/bbcsd.8
	install -m 0644 $(MAN)/bbcsctl.1 $(DESTDIR)$(MANDIR)/man1/bbcsctl.1
	sed -e 's|/usr/local/sbin|$(SBINDIR)|g' -e 's|/etc/bbcs|$(SYSCONFDIR)/bbcs|g' systemd/bbcsd.service > $(DESTDIR)$(UNITDIR)/bbcsd.service
	install -m 0644 systemd/bbcsd.socket $(DESTDIR)$(UNITDIR)/bbcsd.socket
	chmod 0644 $(DESTDIR)$(UNITDIR)/bbcsd.service
	install -m 0644 systemd/bbcs.sysusers.conf $(DESTDIR)$(SYSUSERSDIR)/bbcs.conf
	install -m 0644 systemd/bbcs.tmpfiles.conf $(DESTDIR)$(TMPFILESDIR)/bbcs.conf
	install -m 0644 systemd/bbcsd-remote-postgresql.conf systemd/bbcsd-mail-smtp.conf systemd/bbcsd-password.conf systemd/bbcsd-site.conf \
		Config/nginx-bbcs-site.conf README.md $(DESTDIR)$(DOCDIR)/
	$(BUILD)/bbcsctl --generate-completion-script bash > $(DESTDIR)$(BASHDIR)/bbcsctl
	$(BUILD)/bbcsd --generate-completion-script bash > $(DESTDIR)$(BASHDIR)/bbcsd
	$(BUILD)/bbcsctl --generate-completion-script zsh > $(DESTDIR)$(ZSHDIR)/_bbcsctl
	$(BUILD)/bbcsd --generate-completion-script zsh > $(DESTDIR)$(ZSHDIR)/_bbcsd
	@echo "installed under $(DESTDIR)$(PREFIX); next: systemd-sysusers, systemd-tmpfiles --create, create the PostgreSQL roles, edit $(SYSCONFDIR)/bbcs/bbcsd.toml, bbcsd --migrate as the owner, systemctl enable --now bbcsd.socket (README, Deploying)"

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/bbcsd $(DESTDIR)$(BINDIR)/bbcsctl $(DESTDIR)$(MANDIR)/man8/bbcsd.8 $(DESTDIR)$(MANDIR)/man1/bbcsctl.1 \
		$(DESTDIR)$(UNITDIR)/bbcsd.service $(DESTDIR)$(UNITDIR)/bbcsd.socket $(DESTDIR)$(SYSUSERSDIR)/bbcs.conf \
		$(DESTDIR)$(TMPFILESDIR)/bbcs.conf $(DESTDIR)$(BASHDIR)/bbcsctl $(DESTDIR)$(BASHDIR)/bbcsd $(DESTDIR)$(ZSHDIR)/_bbcsctl \
		$(DESTDIR)$(ZSHDIR)/_bbcsd
	rm -rf $(DESTDIR)$(SHAREDIR) $(DESTDIR)$(DOCDIR)
