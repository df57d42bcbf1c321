/*
 * lmdb_err.h - translating LMDB return codes (and the errno values LMDB
 * passes through) into the YIMA_E* error space.
 */
#ifndef YIMA_UTIL_LMDB_ERR_H
#define YIMA_UTIL_LMDB_ERR_H

/* MDB_NOTFOUND -> YIMA_ENOTFOUND, MDB_MAP_FULL/ENOSPC -> YIMA_ENOSPACE,
 * page or format damage -> YIMA_ECORRUPT, anything unknown -> YIMA_EIO. */
int yima_err_from_mdb(int rc);

#endif
