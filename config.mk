# config.mk - settings for the loam build; override any of them on the
# make command line (make PREFIX=/opt/loam CC=clang).

VERSION = 0.1.0

PREFIX    = /usr/local
MANPREFIX = $(PREFIX)/share/man
DESTDIR   =

CC  = cc
CXX = c++

# Optimisation and debug info; warnings and the language level are added
# by the Makefile so that overriding CFLAGS cannot lose them.
CFLAGS   = -O2 -g
CXXFLAGS = -O2 -g
LDFLAGS  =

# WERROR=1 turns every warning into an error (CI uses it).
WERROR =
# SANITIZE=address,undefined builds into build/san-address-undefined/.
SANITIZE =

MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)

# OpenBLAS: the OpenMP build, so that it and FAISS share libgomp's threads
# (the default pthread build spins against OpenMP: 2.4x slower on 2 cores).
OPENBLAS_DIR = /usr/lib/$(MULTIARCH)/openblas-openmp
BLAS_LIBS    = -L$(OPENBLAS_DIR) -Wl,-rpath,$(OPENBLAS_DIR) -llapacke -lopenblas

# FAISS: when a compiled libfaiss_c exists it is used as is; otherwise
# lib/faiss_c.cpp implements the part of the C API we call over libfaiss.a.
FAISS_CFLAGS =
FAISS_LIBS   =

# GSL (the Bessel function K_ν; its CBLAS calls resolve to OpenBLAS) and
# liblbfgs (reward-query's marginal likelihood,
# reward-sensitivity's maximum likelihood).
LIBS = -lgsl -llbfgs -ljson-c -lyaml -lxxhash -lz -lzstd -lstdc++ -lm -lpthread

# Debian packages, installed with apt-get by `make deps` (what the build,
# make check and make demo need on a bookworm minbase system with git, gcc
# and make) and by the targets that need more: make bench (the baselines),
# make lint.  tests/deps.bats checks that every external command the tests,
# scripts and Makefile call comes from one of these lists or from minbase.
DEPS_PKGS  = g++ libyaml-dev libxxhash-dev libfaiss-dev libopenblas-openmp-dev \
	liblapacke-dev libjson-c-dev bats bats-support bats-assert mandoc \
	man-db parallel jq time wordnet-base python3-nltk zlib1g-dev libzstd-dev \
	libgsl-dev liblbfgs-dev python3-sklearn python3-numpy
BENCH_PKGS = python3 python3-numpy python3-torch
LINT_PKGS  = cppcheck
FUZZ_PKGS  = clang libomp-dev
