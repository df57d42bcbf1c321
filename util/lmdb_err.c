/*
 * lmdb_err.c - LMDB's return codes in the YIMA_E* error space (see
 * yima/util/lmdb_err.h): the one place that translation happens, for the
 * ledger and for the upload spool alike.
 */
#include <errno.h>
#include <lmdb.h>

#include "yima/util/error.h"
#include "yima/util/lmdb_err.h"

int yima_err_from_mdb(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return YIMA_OK;
	case MDB_NOTFOUND:
		return YIMA_ENOTFOUND;
	case MDB_KEYEXIST:
		return YIMA_EEXIST;
	case MDB_MAP_FULL:
	case ENOSPC:
		return YIMA_ENOSPACE;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_BAD_TXN:
	case MDB_BAD_VALSIZE:
		return YIMA_ECORRUPT;
	case MDB_VERSION_MISMATCH:
		return YIMA_EVERSION;
	case ENOMEM:
		return YIMA_ENOMEM;
	case EAGAIN:
	case EBUSY:
		return YIMA_EBUSY;
	case ENOENT:
		return YIMA_ENOTFOUND;
	default:
		return YIMA_EIO;
	}
}
