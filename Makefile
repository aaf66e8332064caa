# popfetch - POP3 mail retrieval.  See README for the quick start.
.POSIX:

include config.mk

SRC = src/main.c src/cli.c src/cli_doc.c src/accounts.c src/jobs.c src/report.c \
      src/commands.c src/info.c src/fetch.c src/session.c src/pop3.c \
      src/pop3_parse.c src/pop3_trace.c \
      src/net.c src/tls.c src/crypto.c src/deliver.c src/maildir.c src/mbox.c \
      src/safefile.c \
      src/mda.c src/envelope.c src/state.c src/state_cmd.c src/import.c \
      src/plan.c src/logindelay.c src/digest.c src/verify.c src/verify_cmd.c \
      src/lmtp.c src/smtp_client.c src/smtp_parse.c src/dial.c src/proxy.c src/filter.c \
      src/auth.c src/sasl.c src/config.c src/util.c \
      src/oauth2.c src/oauth2_http.c src/oauth2_store.c src/provider.c
OBJ = $(SRC:.c=.o)
HDR = src/cli.h src/cli_p.h src/accounts.h src/jobs.h src/report.h \
      src/commands.h src/info.h src/fetch.h src/session.h src/pop3.h src/net.h \
      src/pop3_parse.h src/pop3_trace.h \
      src/tls.h src/crypto.h src/deliver.h src/backend.h src/safefile.h \
      src/state.h src/digest.h src/verify.h src/logindelay.h src/plan.h src/envelope.h src/import.h \
      src/smtp_client.h src/smtp_parse.h src/dial.h src/proxy.h src/filter.h \
      src/auth.h src/sasl.h src/config.h src/util.h \
      src/oauth2.h src/oauth2_p.h src/provider.h

all: popfetch

popfetch: $(OBJ)
	$(CC) $(LDFLAGS) -o $@ $(OBJ) $(LIBS)

$(OBJ): $(HDR) config.mk

.c.o:
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# The sanitizer build lives in its own directory so that it never mixes
# objects with the default build.
san/popfetch: $(SRC) $(HDR) config.mk
	mkdir -p san
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SANFLAGS) -o $@ $(SRC) $(LIBS)

# Known-answer tests of the SASL mechanisms, run by tests/sasl.bats.
tests/unit/vectors: tests/unit/vectors.c src/sasl.c src/crypto.c \
    src/util.c src/sasl.h src/crypto.h src/util.h config.mk
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit/vectors.c src/sasl.c \
		src/crypto.c src/util.c $(LIBS)

# The protocol layer over a socket pair, run by tests/protocol.bats.
UNIT_POP3_SRC = src/pop3.c src/pop3_parse.c src/pop3_trace.c src/net.c \
	src/tls.c src/util.c
tests/unit/pop3: tests/unit/pop3.c $(UNIT_POP3_SRC) $(HDR) config.mk
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit/pop3.c $(UNIT_POP3_SRC) \
		$(LIBS)

# The string builder and the percent codec, run by tests/state.bats.
tests/unit/util: tests/unit/util.c src/util.c src/util.h config.mk
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/unit/util.c src/util.c $(LIBS)

# make check: the default build, then the whole suite against the
# AddressSanitizer + UndefinedBehaviorSanitizer build.
check: popfetch san/popfetch tests/unit/vectors tests/unit/pop3 tests/unit/util test-deps
	POPFETCH=$$(pwd)/san/popfetch bats $(BATSFLAGS) tests/

# make test: the suite against the default build only.
test: popfetch tests/unit/vectors tests/unit/pop3 tests/unit/util test-deps
	bats $(BATSFLAGS) tests/

# The OAuth test server's packages (tests/oauth.bats), exactly as
# package-lock.json pins them; without npm the OAuth tests skip.
test-deps:
	@if command -v npm >/dev/null; then \
		(cd tests/lib/oauth && npm ci --no-audit --no-fund --silent) || \
		echo "npm ci failed: tests/oauth.bats will be skipped"; \
	else \
		echo "npm not found: tests/oauth.bats will be skipped"; \
	fi

demo: popfetch
	sh tests/lib/demo.sh

# make bench: times popfetch against the peers that are installed (mpop,
# fetchmail, getmail6) and a raw pipelined openssl s_client baseline, in
# several scenarios; see tests/bench/bench.sh.  Not part of the tests.
bench: popfetch
	bash tests/bench/bench.sh

# The figure of #19: verify --offline over 100,000 messages against
# sha256sum over the same files (tests/bench/verify.sh).
bench-verify: popfetch
	bash tests/bench/verify.sh

# make fuzz: each libFuzzer target for FUZZ_SECONDS, starting from the
# committed seeds (new inputs go to a scratch directory, not the tree).
FUZZ_TARGETS = fuzz_status fuzz_multiline fuzz_mboxrd fuzz_state fuzz_sasl \
    fuzz_reply
FUZZ_SECONDS = 60

FUZZ_BINS = fuzz/fuzz_status fuzz/fuzz_multiline fuzz/fuzz_mboxrd \
    fuzz/fuzz_state fuzz/fuzz_sasl fuzz/fuzz_reply
FUZZ_BUILD = mkdir -p fuzz && $(FUZZCC) $(CPPFLAGS) $(FUZZFLAGS) \
	`$(PKG_CONFIG) --cflags gnutls libbsd-overlay` -o $@

# The parsers of server input are fuzzed with util.c alone, SASL with
# its crypto; the others link what they need.
FUZZ_PARSE_SRC = src/pop3_parse.c src/envelope.c src/util.c
FUZZ_SASL_SRC = src/sasl.c src/crypto.c src/util.c

fuzz/fuzz_status: tests/fuzz/fuzz_status.c $(FUZZ_PARSE_SRC) \
    src/pop3_parse.h src/util.h config.mk
	$(FUZZ_BUILD) tests/fuzz/fuzz_status.c $(FUZZ_PARSE_SRC) $(LIBS)

fuzz/fuzz_multiline: tests/fuzz/fuzz_multiline.c $(FUZZ_PARSE_SRC) \
    src/pop3_parse.h src/util.h config.mk
	$(FUZZ_BUILD) tests/fuzz/fuzz_multiline.c $(FUZZ_PARSE_SRC) $(LIBS)

fuzz/fuzz_sasl: tests/fuzz/fuzz_sasl.c $(FUZZ_SASL_SRC) src/sasl.h \
    src/crypto.h src/util.h config.mk
	$(FUZZ_BUILD) tests/fuzz/fuzz_sasl.c $(FUZZ_SASL_SRC) $(LIBS)

# These two link only the module they test, and util.c.
FUZZ_MBOXRD_SRC = src/mbox.c src/safefile.c src/util.c
FUZZ_STATE_SRC = src/state.c src/util.c

fuzz/fuzz_mboxrd: tests/fuzz/fuzz_mboxrd.c $(FUZZ_MBOXRD_SRC) $(HDR) config.mk
	mkdir -p fuzz
	$(FUZZCC) $(CPPFLAGS) $(FUZZFLAGS) `$(PKG_CONFIG) --cflags \
		libbsd-overlay` -o $@ tests/fuzz/fuzz_mboxrd.c \
		$(FUZZ_MBOXRD_SRC) `$(PKG_CONFIG) --libs libbsd-overlay`

fuzz/fuzz_state: tests/fuzz/fuzz_state.c $(FUZZ_STATE_SRC) $(HDR) config.mk
	mkdir -p fuzz
	$(FUZZCC) $(CPPFLAGS) $(FUZZFLAGS) `$(PKG_CONFIG) --cflags \
		libbsd-overlay zlib` -o $@ tests/fuzz/fuzz_state.c \
		$(FUZZ_STATE_SRC) `$(PKG_CONFIG) --libs libbsd-overlay zlib`

# SMTP and LMTP replies: a pure parser, no library at all.
fuzz/fuzz_reply: tests/fuzz/fuzz_reply.c src/smtp_parse.c src/smtp_parse.h \
    config.mk
	$(FUZZ_BUILD) tests/fuzz/fuzz_reply.c src/smtp_parse.c

fuzz: $(FUZZ_BINS)
	for t in $(FUZZ_TARGETS); do \
		rm -rf fuzz/work-$$t && mkdir -p fuzz/work-$$t && \
		./fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
			-print_final_stats=1 fuzz/work-$$t \
			tests/fuzz/corpus/$$t || exit 1; \
	done

lint:
	sh tests/lib/banned.sh src/*.c src/*.h
	mandoc -Tlint -W warning man/popfetch.1 man/popfetch.conf.5

install: popfetch
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5
	cp -f popfetch $(DESTDIR)$(BINDIR)/popfetch
	chmod 755 $(DESTDIR)$(BINDIR)/popfetch
	cp -f man/popfetch.1 $(DESTDIR)$(MANDIR)/man1/popfetch.1
	cp -f man/popfetch.conf.5 $(DESTDIR)$(MANDIR)/man5/popfetch.conf.5
	chmod 644 $(DESTDIR)$(MANDIR)/man1/popfetch.1 \
		$(DESTDIR)$(MANDIR)/man5/popfetch.conf.5
	mkdir -p $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) \
		$(DESTDIR)$(FISHCOMPDIR)
	cp -f completions/popfetch.bash $(DESTDIR)$(BASHCOMPDIR)/popfetch
	cp -f completions/_popfetch $(DESTDIR)$(ZSHCOMPDIR)/_popfetch
	cp -f completions/popfetch.fish $(DESTDIR)$(FISHCOMPDIR)/popfetch.fish
	chmod 644 $(DESTDIR)$(BASHCOMPDIR)/popfetch \
		$(DESTDIR)$(ZSHCOMPDIR)/_popfetch \
		$(DESTDIR)$(FISHCOMPDIR)/popfetch.fish

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/popfetch \
		$(DESTDIR)$(MANDIR)/man1/popfetch.1 \
		$(DESTDIR)$(MANDIR)/man5/popfetch.conf.5 \
		$(DESTDIR)$(BASHCOMPDIR)/popfetch \
		$(DESTDIR)$(ZSHCOMPDIR)/_popfetch \
		$(DESTDIR)$(FISHCOMPDIR)/popfetch.fish

clean:
	rm -f popfetch $(OBJ)
	rm -rf san fuzz tests/unit/vectors tests/unit/pop3 tests/unit/util

.PHONY: all check test test-deps demo bench bench-verify fuzz lint install uninstall clean
