# popfetch build configuration; override on the make command line.
VERSION = 0.1.0

PREFIX = /usr/local
BINDIR = $(PREFIX)/bin
MANDIR = $(PREFIX)/share/man
BASHCOMPDIR = $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR = $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR = $(PREFIX)/share/fish/vendor_completions.d

PKG_CONFIG = pkg-config
# libcurl: its header only; oauth2_http.c loads the library when it is
# first needed (dlopen, in libc since glibc 2.34; -ldl for older ones).
DEPS_CFLAGS = `$(PKG_CONFIG) --cflags gnutls libbsd-overlay jansson zlib libcurl`
DEPS_LIBS = `$(PKG_CONFIG) --libs gnutls libbsd-overlay jansson zlib` -ldl

CC = cc
CPPFLAGS = -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L \
	-DPOPFETCH_VERSION=\"$(VERSION)\"
CFLAGS = -std=c11 -O2 -g -Wall -Wextra -Werror $(DEPS_CFLAGS)
LDFLAGS =
LIBS = $(DEPS_LIBS)
SANFLAGS = -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
BATSFLAGS =
FUZZCC = clang
FUZZFLAGS = -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined
