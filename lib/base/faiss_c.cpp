/*
 * faiss_c - the part of the FAISS C API that lib/knn.c calls, over the
 * C++ library.
 *
 * Debian ships the c_api headers but no compiled libfaiss_c, so we
 * implement the functions we need ourselves.  The names and signatures
 * are upstream's (the official headers are included so that the compiler
 * checks them): when a real libfaiss_c is found the Makefile links it
 * instead and this file is not built.  Never link both.
 *
 * Errors follow upstream: every fallible function catches what the C++
 * side throws, keeps the message for faiss_get_last_error() and returns
 * a FaissErrorCode.  upstream's error_impl.h and macros_impl.h are not
 * included: they refer to upstream's faiss_last_exception, which exists
 * only in the real library.  We keep a plain per-thread string instead.
 */
#include <exception>
#include <string>

#include <faiss/AutoTune.h>
#include <faiss/Index.h>
#include <faiss/IndexFlat.h>
#include <faiss/impl/FaissException.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>
#include <faiss/utils/distances.h>

#include <faiss/c_api/AutoTune_c.h>
#include <faiss/c_api/IndexFlat_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/error_c.h>
#include <faiss/c_api/index_factory_c.h>
#include <faiss/c_api/index_io_c.h>
#include <faiss/c_api/utils/distances_c.h>

namespace {

/* Per thread, as upstream: a search failing in one thread must not
 * overwrite the message another thread is about to read. */
thread_local std::string last_error;

/* Each entry point runs its body through this, so that no exception
 * crosses into C (which would terminate the program). */
template <typename F>
int
guard(F body)
{
	try {
		body();
		return OK;
	} catch (const faiss::FaissException &e) {
		last_error = e.what();
		return FAISS_EXCEPT;
	} catch (const std::exception &e) {
		last_error = e.what();
		return STD_EXCEPT;
	} catch (...) {
		last_error = "unknown exception";
		return UNKNOWN_EXCEPT;
	}
}

/* The C handles are opaque structs that are never defined: each one is
 * the C++ object's address, as upstream does it. */
faiss::Index *
cxx(FaissIndex *p)
{
	return reinterpret_cast<faiss::Index *>(p);
}

const faiss::Index *
cxx(const FaissIndex *p)
{
	return reinterpret_cast<const faiss::Index *>(p);
}

FaissIndex *
handle(faiss::Index *p)
{
	return reinterpret_cast<FaissIndex *>(p);
}

} /* namespace */

extern "C" {

/* NULL when no call on this thread has failed yet, as upstream. */
const char *
faiss_get_last_error()
{
	return last_error.empty() ? nullptr : last_error.c_str();
}

int
faiss_IndexFlatIP_new_with(FaissIndexFlatIP **p_index, idx_t d)
{
	return guard([&] {
		*p_index = handle(new faiss::IndexFlatIP(d));
	});
}

int
faiss_IndexFlatL2_new_with(FaissIndexFlatL2 **p_index, idx_t d)
{
	return guard([&] {
		*p_index = handle(new faiss::IndexFlatL2(d));
	});
}

int
faiss_index_factory(FaissIndex **p_index, int d, const char *description,
    FaissMetricType metric)
{
	return guard([&] {
		*p_index = handle(faiss::index_factory(d, description,
		    static_cast<faiss::MetricType>(metric)));
	});
}

void
faiss_Index_free(FaissIndex *obj)
{
	delete cxx(obj);
}

int
faiss_Index_d(const FaissIndex *index)
{
	return cxx(index)->d;
}

int
faiss_Index_is_trained(const FaissIndex *index)
{
	return cxx(index)->is_trained;
}

idx_t
faiss_Index_ntotal(const FaissIndex *index)
{
	return cxx(index)->ntotal;
}

FaissMetricType
faiss_Index_metric_type(const FaissIndex *index)
{
	return static_cast<FaissMetricType>(cxx(index)->metric_type);
}

int
faiss_Index_train(FaissIndex *index, idx_t n, const float *x)
{
	return guard([&] { cxx(index)->train(n, x); });
}

int
faiss_Index_add(FaissIndex *index, idx_t n, const float *x)
{
	return guard([&] { cxx(index)->add(n, x); });
}

int
faiss_Index_search(const FaissIndex *index, idx_t n, const float *x,
    idx_t k, float *distances, idx_t *labels)
{
	return guard([&] {
		cxx(index)->search(n, x, k, distances, labels);
	});
}

int
faiss_ParameterSpace_new(FaissParameterSpace **space)
{
	return guard([&] {
		*space = reinterpret_cast<FaissParameterSpace *>(
		    new faiss::ParameterSpace());
	});
}

void
faiss_ParameterSpace_free(FaissParameterSpace *space)
{
	delete reinterpret_cast<faiss::ParameterSpace *>(space);
}

int
faiss_ParameterSpace_set_index_parameters(const FaissParameterSpace *space,
    FaissIndex *index, const char *params)
{
	return guard([&] {
		reinterpret_cast<const faiss::ParameterSpace *>(space)->
		    set_index_parameters(cxx(index), params);
	});
}

void
faiss_set_distance_compute_blas_threshold(int value)
{
	faiss::distance_compute_blas_threshold = value;
}

void
faiss_fvec_renorm_L2(size_t d, size_t nx, float *x)
{
	faiss::fvec_renorm_L2(d, nx, x);
}

int
faiss_write_index(const FaissIndex *idx, FILE *f)
{
	return guard([&] { faiss::write_index(cxx(idx), f); });
}

int
faiss_read_index(FILE *f, int io_flags, FaissIndex **p_out)
{
	return guard([&] {
		*p_out = handle(faiss::read_index(f, io_flags));
	});
}

} /* extern "C" */
