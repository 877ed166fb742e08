#ifndef KAKEHASHI_CMECAB_SHIM_H
#define KAKEHASHI_CMECAB_SHIM_H

// MeCab, the Japanese morphological analyzer (Debian: libmecab-dev, with the IPA dictionary
// mecab-ipadic-utf8). Its C API is used as is: mecab_new2, mecab_sparse_tonode2 and the node list.
#include <mecab.h>

#endif
