/**
 * PAM login, helper side: runs inside the short-lived `pam-helper`
 * subprocess started by hub/auth/pam/mod.ts. It reads one JSON request, calls
 * libpam through `Deno.dlopen` (`pam_start`, `pam_set_item(PAM_RHOST)`,
 * `pam_authenticate`, then always `pam_acct_mgmt`, `pam_end`) and answers
 * with one JSON line. PAM's failure delay is kept on purpose: without it a
 * wrong password and an unknown user take measurably different times.
 *
 * Nothing here runs at import time; libpam is opened per call. The password
 * is never logged, printed or put in an error message.
 *
 * Struct layouts are Linux-PAM's on 64-bit little-endian Linux
 * (`security/_pam_types.h`): `struct pam_conv` is `{ conv, appdata_ptr }`
 * (16 bytes); the conversation gets an array of pointers to
 * `struct pam_message { int msg_style; const char *msg; }` (text at offset
 * 8) and returns a `calloc`'d array of
 * `struct pam_response { char *resp; int resp_retcode; }` (16 bytes each)
 * whose strings PAM frees, so they come from libc `strdup`.
 *
 * @module
 */
import {
  checkPamService,
  pamCredentialsProblem,
  type PamHelperOutput,
  type PamHelperRequest,
  type PamHelperStage,
  pamRhostProblem,
  pamServiceProblem,
} from "./mod.ts";

/** Exit status: PAM said yes (and the account may log in). */
export const PAM_HELPER_EXIT_OK = 0;
/** Exit status: PAM said no, or could not be asked. */
export const PAM_HELPER_EXIT_FAILED = 1;
/** Exit status: the request on stdin was unusable. */
export const PAM_HELPER_EXIT_BAD_INPUT = 2;

/** Longest request accepted on stdin, in bytes. */
export const PAM_HELPER_MAX_INPUT = 64 * 1024;

// Linux-PAM constants (security/_pam_types.h).
const PAM_SUCCESS = 0;
const PAM_BUF_ERR = 5;
const PAM_CONV_ERR = 19;
const PAM_RHOST = 4;
const PAM_DISALLOW_NULL_AUTHTOK = 0x1;
const PAM_PROMPT_ECHO_OFF = 1;
const PAM_PROMPT_ECHO_ON = 2;
const PAM_ERROR_MSG = 3;
const PAM_TEXT_INFO = 4;
const PAM_MAX_NUM_MSG = 32;
const POINTER_SIZE = 8;
const RESPONSE_SIZE = 16;

const PAM_SYMBOLS = {
  pam_start: {
    parameters: ["buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  pam_set_item: { parameters: ["pointer", "i32", "buffer"], result: "i32" },
  pam_authenticate: { parameters: ["pointer", "i32"], result: "i32" },
  pam_acct_mgmt: { parameters: ["pointer", "i32"], result: "i32" },
  pam_end: { parameters: ["pointer", "i32"], result: "i32" },
  pam_strerror: { parameters: ["pointer", "i32"], result: "pointer" },
} as const;

const LIBC_SYMBOLS = {
  calloc: { parameters: ["usize", "usize"], result: "pointer" },
  strdup: { parameters: ["buffer"], result: "pointer" },
  free: { parameters: ["pointer"], result: "void" },
} as const;

const CONVERSATION = {
  parameters: ["i32", "pointer", "pointer", "pointer"],
  result: "i32",
} as const;

type Pam = Deno.DynamicLibrary<typeof PAM_SYMBOLS>["symbols"];
type Libc = Deno.DynamicLibrary<typeof LIBC_SYMBOLS>["symbols"];

/** What {@linkcode runPamHelper} resolves to. */
export interface PamHelperRun {
  /** The JSON object to print as one line. */
  result: PamHelperOutput;
  /** The process exit status. */
  exitCode: number;
}

/**
 * Runs one PAM check for the `pam-helper` subcommand.
 *
 * @param input The request as read from stdin: one JSON object
 * `{"service", "username", "password", "rhost"?}`.
 * @returns The answer to print and the exit status: 0 on success, 1 when
 * PAM refused or could not be asked (stage `"auth"`, `"account"` or
 * `"setup"`), 2 when the input was unusable.
 */
export async function runPamHelper(input: string): Promise<PamHelperRun> {
  const request = parseRequest(input);
  if (typeof request === "string") {
    return {
      result: { ok: false, stage: "setup", code: -1, message: request },
      exitCode: PAM_HELPER_EXIT_BAD_INPUT,
    };
  }
  // Linux-PAM silently uses /etc/pam.d/other for an unknown service.
  const serviceProblem = await checkPamService(request.service);
  if (serviceProblem) return setupFailure(serviceProblem);
  let result: PamHelperOutput;
  try {
    result = authenticateWithLibpam(request);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return setupFailure(`Call libpam through FFI: ${detail}`);
  }
  return {
    result,
    exitCode: result.ok ? PAM_HELPER_EXIT_OK : PAM_HELPER_EXIT_FAILED,
  };
}

function setupFailure(message: string): PamHelperRun {
  return {
    result: { ok: false, stage: "setup", code: -1, message },
    exitCode: PAM_HELPER_EXIT_FAILED,
  };
}

/** The validated request, or why it is unusable (never quoting input). */
function parseRequest(input: string): PamHelperRequest | string {
  let value: unknown;
  try {
    value = JSON.parse(input);
  } catch {
    // JSON.parse's message quotes the input, which holds the password.
    return "Send one JSON object on stdin: the input is not valid JSON";
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return "Send one JSON object on stdin: got another JSON value";
  }
  const { service, username, password, rhost } = value as Record<
    string,
    unknown
  >;
  if (
    typeof service !== "string" || typeof username !== "string" ||
    typeof password !== "string"
  ) {
    return 'Send "service", "username" and "password" as strings';
  }
  if (rhost !== undefined && typeof rhost !== "string") {
    return 'Send "rhost" as a string or leave it out';
  }
  const problem = pamServiceProblem(service) ??
    pamCredentialsProblem(username, password) ??
    (rhost ? pamRhostProblem(rhost) : null);
  if (problem) return problem;
  return rhost ? { service, username, password, rhost } : {
    service,
    username,
    password,
  };
}

const encoder = new TextEncoder();

/** A NUL-terminated copy of `text` (inputs are checked to hold no NUL). */
function cString(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text + "\0");
}

/** Stores a pointer value at `offset` in native memory. */
function writePointer(
  target: Deno.PointerObject,
  offset: number,
  value: Deno.PointerValue,
): void {
  const view = new DataView(
    Deno.UnsafePointerView.getArrayBuffer(target, POINTER_SIZE, offset),
  );
  view.setBigUint64(0, BigInt(Deno.UnsafePointer.value(value)), true);
}

/** The blocking libpam conversation; fine here, it is its own process. */
function authenticateWithLibpam(request: PamHelperRequest): PamHelperOutput {
  const pamLib = Deno.dlopen("libpam.so.0", PAM_SYMBOLS);
  let libcLib: Deno.DynamicLibrary<typeof LIBC_SYMBOLS> | undefined;
  const username = cString(request.username);
  const password = cString(request.password);
  const messages: string[] = [];
  let callback: Deno.UnsafeCallback<typeof CONVERSATION> | undefined;
  let pamh: Deno.PointerValue = null;
  let status = PAM_SUCCESS;
  try {
    libcLib = Deno.dlopen("libc.so.6", LIBC_SYMBOLS);
    const pam = pamLib.symbols;
    const libc = libcLib.symbols;
    callback = createConversation(libc, { username, password, messages });
    const conv = new Uint8Array(RESPONSE_SIZE); // { conv, appdata_ptr: NULL }
    new DataView(conv.buffer).setBigUint64(
      0,
      BigInt(Deno.UnsafePointer.value(callback.pointer)),
      true,
    );
    const handleOut = new Uint8Array(POINTER_SIZE);
    status = pam.pam_start(
      cString(request.service),
      username,
      conv,
      handleOut,
    );
    pamh = Deno.UnsafePointer.create(
      new DataView(handleOut.buffer).getBigUint64(0, true),
    );
    if (status !== PAM_SUCCESS) return failure(pam, null, "setup", status, []);
    if (request.rhost) {
      status = pam.pam_set_item(pamh, PAM_RHOST, cString(request.rhost));
      if (status !== PAM_SUCCESS) {
        return failure(pam, pamh, "setup", status, []);
      }
    }
    messages.length = 0;
    status = pam.pam_authenticate(pamh, PAM_DISALLOW_NULL_AUTHTOK);
    if (status !== PAM_SUCCESS) {
      return failure(pam, pamh, "auth", status, messages);
    }
    // Always: pam_authenticate alone lets expired accounts in.
    messages.length = 0;
    status = pam.pam_acct_mgmt(pamh, PAM_DISALLOW_NULL_AUTHTOK);
    if (status !== PAM_SUCCESS) {
      return failure(pam, pamh, "account", status, messages);
    }
    return { ok: true };
  } finally {
    if (pamh !== null) pamLib.symbols.pam_end(pamh, status);
    callback?.close();
    libcLib?.close();
    pamLib.close();
    password.fill(0);
  }
}

/** A failure answer: PAM's conversation messages, else `pam_strerror`. */
function failure(
  pam: Pam,
  pamh: Deno.PointerValue,
  stage: PamHelperStage,
  code: number,
  messages: string[],
): PamHelperOutput {
  const text = pam.pam_strerror(pamh, code);
  const strerror = text
    ? Deno.UnsafePointerView.getCString(text)
    : `PAM error ${code}`;
  const said = messages.map((m) => m.trim()).filter(Boolean);
  return {
    ok: false,
    stage,
    code,
    message: said.length > 0 ? said.join(" ") : strerror,
  };
}

interface ConversationState {
  username: Uint8Array<ArrayBuffer>;
  password: Uint8Array<ArrayBuffer>;
  /** Error and info texts PAM sent, in order. */
  messages: string[];
}

/**
 * The `pam_conv` callback: the password for echo-off prompts, the username
 * for echo-on prompts, and error or info texts collected for the answer.
 */
function createConversation(
  libc: Libc,
  state: ConversationState,
): Deno.UnsafeCallback<typeof CONVERSATION> {
  return new Deno.UnsafeCallback(
    CONVERSATION,
    (count, messageArray, responseOut) => {
      if (count <= 0 || count > PAM_MAX_NUM_MSG) return PAM_CONV_ERR;
      if (messageArray === null || responseOut === null) return PAM_CONV_ERR;
      const responses = libc.calloc(BigInt(count), BigInt(RESPONSE_SIZE));
      if (responses === null) return PAM_BUF_ERR;
      try {
        const array = new Deno.UnsafePointerView(messageArray);
        for (let i = 0; i < count; i++) {
          const message = array.getPointer(i * POINTER_SIZE);
          if (message === null) throw new Error("Read PAM message: NULL");
          const view = new Deno.UnsafePointerView(message);
          const style = view.getInt32(0);
          const text = view.getPointer(POINTER_SIZE);
          let answer: Uint8Array<ArrayBuffer> | null = null;
          if (style === PAM_PROMPT_ECHO_OFF) answer = state.password;
          else if (style === PAM_PROMPT_ECHO_ON) answer = state.username;
          else if (style === PAM_ERROR_MSG || style === PAM_TEXT_INFO) {
            if (text) {
              state.messages.push(Deno.UnsafePointerView.getCString(text));
            }
          } else throw new Error(`Answer PAM message style ${style}`);
          if (answer) {
            const copy = libc.strdup(answer);
            if (copy === null) {
              throw new Error("Copy PAM answer: out of memory");
            }
            writePointer(responses, i * RESPONSE_SIZE, copy);
          }
        }
        writePointer(responseOut, 0, responses);
        return PAM_SUCCESS;
      } catch {
        freeResponses(libc, responses, count);
        return PAM_CONV_ERR;
      }
    },
  );
}

/** Frees a response array PAM will not take (after a conversation error). */
function freeResponses(
  libc: Libc,
  responses: Deno.PointerObject,
  count: number,
): void {
  const view = new Deno.UnsafePointerView(responses);
  for (let i = 0; i < count; i++) {
    const answer = view.getPointer(i * RESPONSE_SIZE);
    if (answer !== null) libc.free(answer);
  }
  libc.free(responses);
}
