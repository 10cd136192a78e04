/* The state image's constants shared by its encoder (state_encode.c) and
 * decoder (state_codec.c); the layout itself is in state_codec.h. */
#ifndef LEAKWATCH_STATE_LAYOUT_H
#define LEAKWATCH_STATE_LAYOUT_H

static const char state_magic[8] = { 'L', 'W', 'S', 'T', 'A', 'T', 'E', '\n' };

#define BOOT_ID_LEN 40
#define NAME_MAX_LEN 255


#endif
