/* One signature call through TensorFlow's C API (TF_LoadSessionFromSavedModel, TF_SessionRun),
 * the calls a native front end such as tensorflow_model_server's would make, timed per call.
 *
 * usage: native_call MODEL_DIR INPUT_OP INPUT_INDEX OUTPUT_OP OUTPUT_INDEX ROWS ITERATIONS
 *        EXAMPLE_FILE
 * Feeds ROWS copies of the serialized tf.Example in EXAMPLE_FILE as a string vector, runs 20
 * warm-up calls and then ITERATIONS timed ones, and prints one JSON line: process CPU and wall
 * microseconds per call and the first row of the (float) output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tensorflow/c/c_api.h"
#include "tensorflow/c/tf_tstring.h"

#define WARMUP_CALLS 20
#define MAX_EXAMPLE_BYTES (1 << 20)

static double seconds(clockid_t clock) {
  struct timespec now;
  clock_gettime(clock, &now);
  return now.tv_sec + now.tv_nsec / 1e9;
}

static int fail(const char *what, TF_Status *status) {
  fprintf(stderr, "native_call: %s: %s\n", what, status ? TF_Message(status) : "");
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 9) {
    fprintf(stderr, "usage: %s MODEL_DIR INPUT_OP INPUT_INDEX OUTPUT_OP OUTPUT_INDEX ROWS "
                    "ITERATIONS EXAMPLE_FILE\n", argv[0]);
    return 2;
  }
  const char *model_dir = argv[1];
  int rows = atoi(argv[6]), iterations = atoi(argv[7]);
  FILE *file = fopen(argv[8], "rb");
  if (!file) return fail("cannot open the example file", NULL);
  static char example[MAX_EXAMPLE_BYTES];
  size_t example_size = fread(example, 1, sizeof example, file);
  fclose(file);

  TF_Status *status = TF_NewStatus();
  TF_Graph *graph = TF_NewGraph();
  TF_SessionOptions *options = TF_NewSessionOptions();
  const char *tags[] = {"serve"};
  TF_Session *session =
      TF_LoadSessionFromSavedModel(options, NULL, model_dir, tags, 1, graph, NULL, status);
  if (TF_GetCode(status) != TF_OK) return fail("loading the SavedModel", status);
  TF_Output input = {TF_GraphOperationByName(graph, argv[2]), atoi(argv[3])};
  TF_Output output = {TF_GraphOperationByName(graph, argv[4]), atoi(argv[5])};
  if (!input.oper || !output.oper) return fail("input or output operation not in the graph", NULL);

  double cpu_start = 0, wall_start = 0;
  TF_Tensor *result = NULL;
  for (int call = 0; call < WARMUP_CALLS + iterations; call++) {
    if (call == WARMUP_CALLS) {
      cpu_start = seconds(CLOCK_PROCESS_CPUTIME_ID);
      wall_start = seconds(CLOCK_MONOTONIC);
    }
    int64_t dims[1] = {rows};
    TF_Tensor *feed = TF_AllocateTensor(TF_STRING, dims, 1, sizeof(TF_TString) * rows);
    TF_TString *strings = (TF_TString *)TF_TensorData(feed);
    for (int row = 0; row < rows; row++) {
      TF_StringInit(&strings[row]);
      TF_StringCopy(&strings[row], example, example_size);
    }
    if (result) TF_DeleteTensor(result);
    result = NULL;
    TF_SessionRun(session, NULL, &input, &feed, 1, &output, &result, 1, NULL, 0, NULL, status);
    TF_DeleteTensor(feed);
    if (TF_GetCode(status) != TF_OK) return fail("running the signature", status);
  }
  double cpu_us = (seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu_start) / iterations * 1e6;
  double wall_us = (seconds(CLOCK_MONOTONIC) - wall_start) / iterations * 1e6;
  if (TF_TensorType(result) != TF_FLOAT) return fail("the output is not a float tensor", NULL);
  int64_t per_row = TF_TensorElementCount(result) / rows;
  const float *values = (const float *)TF_TensorData(result);
  printf("{\"cpu_us\": %.1f, \"wall_us\": %.1f, \"first_row\": [", cpu_us, wall_us);
  for (int64_t i = 0; i < per_row; i++) printf("%s%.8g", i ? ", " : "", values[i]);
  printf("]}\n");
  TF_DeleteTensor(result);
  TF_CloseSession(session, status);
  TF_DeleteSession(session, status);
  TF_DeleteSessionOptions(options);
  TF_DeleteGraph(graph);
  TF_DeleteStatus(status);
  return 0;
}
