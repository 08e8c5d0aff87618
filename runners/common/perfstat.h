/* perf stat's CSV output (`perf stat -x ,`), summarised for run.json's monitors.perf_stat. */
#ifndef SCXLAB_PERFSTAT_H
#define SCXLAB_PERFSTAT_H
#include <jansson.h>

/*
 * {"<event>": value, ...} from the text perf wrote with -x , (value,unit,event,...). Comment
 * lines (#) and lines without a comma are skipped; a value perf could not count ("<not
 * supported>", "<not counted>") is null. NULL text gives an empty object.
 */
json_t *perf_stat_parse(const char *text);

#endif
