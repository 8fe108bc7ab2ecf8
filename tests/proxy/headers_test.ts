import assert from "node:assert/strict";
import {
  type ClientInfo,
  forwardedHeaders,
  type HeaderList,
  isWebSocketUpgrade,
  parseRequestHead,
  parseResponseHead,
  requestFraming,
  type RequestHead,
  responseFraming,
  serializeHead,
  stripHopByHop,
  wantsKeepAlive,
} from "../../proxy/headers.ts";
import { type Framing, ProtocolError } from "../../proxy/http1.ts";

function statusOf(fn: () => unknown): number | "ok" {
  try {
    fn();
    return "ok";
  } catch (error) {
    if (error instanceof ProtocolError) return error.status;
    throw error;
  }
}

Deno.test("parseRequestHead() reads the request line and the fields in order", () => {
  const head = parseRequestHead(
    "GET /user/alice/lab?x=1 HTTP/1.1\r\nHost: hub.test\r\nCookie: a=1\r\ncookie: b=2\r\nX-Empty:\r\nX-Pad: \t v \t",
  );
  assert.deepEqual(head, {
    method: "GET",
    target: "/user/alice/lab?x=1",
    version: "HTTP/1.1",
    headers: [["Host", "hub.test"], ["Cookie", "a=1"], ["cookie", "b=2"], [
      "X-Empty",
      "",
    ], ["X-Pad", "v"]],
  });
});

Deno.test("parseRequestHead() refuses malformed heads with the right status", async (t) => {
  const rows: Array<[string, string, number | "ok"]> = [
    ["plain", "GET / HTTP/1.1\r\nHost: a", "ok"],
    ["HTTP/1.0", "GET / HTTP/1.0", "ok"],
    ["absolute-form target", "GET http://a/x HTTP/1.1\r\nHost: a", "ok"],
    ["obs-text in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: caf\u00e9", "ok"],
    ["HTAB inside a value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\tb", "ok"],
    ["no Host in HTTP/1.1", "GET / HTTP/1.1\r\nX-A: 1", 400],
    ["two spaces in the request line", "GET  / HTTP/1.1", 400],
    ["missing version", "GET /", 400],
    ["garbage", "GARBAGE", 400],
    ["lower-case version", "GET / http/1.1", 505],
    ["HTTP/2.0", "GET / HTTP/2.0", 505],
    ["method with a slash", "GE/T / HTTP/1.1", 400],
    ["control character in the target", "GET /\u0001 HTTP/1.1", 400],
    ["space before the colon", "GET / HTTP/1.1\r\nHost: a\r\nX-A : a", 400],
    ["no colon", "GET / HTTP/1.1\r\nHost", 400],
    ["empty name", "GET / HTTP/1.1\r\n: a", 400],
    [
      "obsolete line folding",
      "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n  continued",
      400,
    ],
    [
      "bare LF smuggling a field",
      "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\nTransfer-Encoding: chunked",
      400,
    ],
    ["bare CR in a value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\rX-B: 2", 400],
    ["NUL in a value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\u0000", 400],
    ["two Host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: b", 400],
  ];
  for (const [name, text, expected] of rows) {
    await t.step(`${name} → ${expected}`, () => {
      assert.equal(statusOf(() => parseRequestHead(text)), expected);
    });
  }
});

Deno.test("parseResponseHead() reads the status line and maps garbage to 502", async (t) => {
  await t.step("a normal head", () => {
    assert.deepEqual(
      parseResponseHead("HTTP/1.1 404 Not Found\r\nContent-Length: 0"),
      {
        version: "HTTP/1.1",
        status: 404,
        reason: "Not Found",
        headers: [["Content-Length", "0"]],
      },
    );
  });
  await t.step("no reason phrase", () => {
    assert.equal(parseResponseHead("HTTP/1.1 200").reason, "");
  });
  const bad: Array<[string, string]> = [
    ["garbage", "hello world"],
    ["short status", "HTTP/1.1 20 OK"],
    ["HTTP/2", "HTTP/2 200 OK"],
    ["malformed field", "HTTP/1.1 200 OK\r\nno colon here"],
    ["bare LF in a value", "HTTP/1.1 200 OK\r\nX-A: 1\nSet-Cookie: evil=1"],
  ];
  for (const [name, text] of bad) {
    await t.step(`${name} → 502`, () => {
      assert.equal(statusOf(() => parseResponseHead(text)), 502);
    });
  }
});

function request(
  headers: HeaderList,
  version = "HTTP/1.1",
  method = "POST",
): RequestHead {
  return { method, target: "/", version, headers };
}

Deno.test("requestFraming() follows RFC 9112 §6.3 and refuses smuggling shapes", async (t) => {
  const rows: Array<[string, RequestHead, Framing | number]> = [
    ["no body", request([]), { kind: "none" }],
    ["Content-Length", request([["Content-Length", "12"]]), {
      kind: "length",
      length: 12,
    }],
    ["Content-Length 0", request([["Content-Length", "0"]]), { kind: "none" }],
    ["chunked", request([["Transfer-Encoding", "chunked"]]), {
      kind: "chunked",
    }],
    ["Chunked, any case", request([["transfer-encoding", " Chunked "]]), {
      kind: "chunked",
    }],
    [
      "equal duplicate lengths",
      request([["Content-Length", "5"], ["content-length", "5"]]),
      {
        kind: "length",
        length: 5,
      },
    ],
    ["equal list of lengths", request([["Content-Length", "5, 5"]]), {
      kind: "length",
      length: 5,
    }],
    [
      "differing duplicate lengths",
      request([["Content-Length", "5"], ["Content-Length", "6"]]),
      400,
    ],
    ["differing list of lengths", request([["Content-Length", "5, 6"]]), 400],
    ["negative length", request([["Content-Length", "-1"]]), 400],
    ["signed length", request([["Content-Length", "+5"]]), 400],
    ["hex length", request([["Content-Length", "0x5"]]), 400],
    ["empty length", request([["Content-Length", ""]]), 400],
    ["huge length", request([["Content-Length", "9999999999999999"]]), 400],
    [
      "TE and CL",
      request([["Transfer-Encoding", "chunked"], ["Content-Length", "5"]]),
      400,
    ],
    [
      "CL and TE",
      request([["Content-Length", "5"], ["Transfer-Encoding", "chunked"]]),
      400,
    ],
    ["TE gzip", request([["Transfer-Encoding", "gzip"]]), 501],
    [
      "TE gzip, chunked",
      request([["Transfer-Encoding", "gzip, chunked"]]),
      501,
    ],
    [
      "TE chunked twice",
      request([["Transfer-Encoding", "chunked"], [
        "Transfer-Encoding",
        "chunked",
      ]]),
      501,
    ],
    [
      "TE chunked, identity",
      request([["Transfer-Encoding", "chunked, identity"]]),
      501,
    ],
    [
      "TE with a parameter",
      request([["Transfer-Encoding", "chunked;q=1"]]),
      501,
    ],
    ["TE empty", request([["Transfer-Encoding", ""]]), 501],
    [
      "TE in HTTP/1.0",
      request([["Transfer-Encoding", "chunked"]], "HTTP/1.0"),
      400,
    ],
  ];
  for (const [name, head, expected] of rows) {
    await t.step(`${name} → ${JSON.stringify(expected)}`, () => {
      if (typeof expected === "number") {
        assert.equal(statusOf(() => requestFraming(head)), expected);
      } else assert.deepEqual(requestFraming(head), expected);
    });
  }
});

function response(status: number, headers: HeaderList = []) {
  return { version: "HTTP/1.1", status, reason: "", headers };
}

Deno.test("responseFraming() knows which responses have no body and how others end", async (t) => {
  const cl: HeaderList = [["Content-Length", "7"]];
  const rows: Array<
    [string, string, ReturnType<typeof response>, Framing | number]
  > = [
    ["HEAD with a length", "HEAD", response(200, cl), { kind: "none" }],
    [
      "HEAD chunked",
      "HEAD",
      response(200, [["Transfer-Encoding", "chunked"]]),
      { kind: "none" },
    ],
    ["204", "GET", response(204, cl), { kind: "none" }],
    ["304", "GET", response(304, cl), { kind: "none" }],
    ["100", "GET", response(100), { kind: "none" }],
    ["length", "GET", response(200, cl), { kind: "length", length: 7 }],
    ["chunked", "GET", response(200, [["Transfer-Encoding", "chunked"]]), {
      kind: "chunked",
    }],
    [
      "gzip, chunked",
      "GET",
      response(200, [["Transfer-Encoding", "gzip, chunked"]]),
      { kind: "chunked" },
    ],
    [
      "TE not ending in chunked",
      "GET",
      response(200, [["Transfer-Encoding", "gzip"]]),
      { kind: "close" },
    ],
    [
      "TE wins over CL",
      "GET",
      response(200, [["Transfer-Encoding", "chunked"], ...cl]),
      { kind: "chunked" },
    ],
    ["neither", "GET", response(200), { kind: "close" }],
    ["404 with a length", "GET", response(404, cl), {
      kind: "length",
      length: 7,
    }],
    [
      "differing lengths",
      "GET",
      response(200, [...cl, ["Content-Length", "8"]]),
      502,
    ],
    ["bad length", "GET", response(200, [["Content-Length", "abc"]]), 502],
  ];
  for (const [name, method, head, expected] of rows) {
    await t.step(`${name} → ${JSON.stringify(expected)}`, () => {
      if (typeof expected === "number") {
        assert.equal(statusOf(() => responseFraming(method, head)), expected);
      } else assert.deepEqual(responseFraming(method, head), expected);
    });
  }
});

Deno.test("stripHopByHop() drops hop-by-hop fields and every field Connection names", async (t) => {
  const rows: Array<[string, HeaderList, HeaderList]> = [
    ["end-to-end fields stay, in order", [["Host", "a"], ["Cookie", "x"], [
      "Accept",
      "*/*",
    ]], [
      ["Host", "a"],
      ["Cookie", "x"],
      ["Accept", "*/*"],
    ]],
    [
      "the standard hop-by-hop set",
      [
        ["Connection", "keep-alive"],
        ["Keep-Alive", "timeout=5"],
        ["Proxy-Connection", "keep-alive"],
        ["TE", "trailers"],
        ["Trailer", "X-Sum"],
        ["Upgrade", "h2c"],
        ["Proxy-Authorization", "Basic eA=="],
        ["X-Kept", "1"],
      ],
      [["X-Kept", "1"]],
    ],
    [
      "fields named in Connection, any case, several Connection fields",
      [
        ["connection", "X-Secret, close"],
        ["Connection", "x-other"],
        ["X-Secret", "1"],
        ["x-other", "2"],
        ["X-Kept", "3"],
      ],
      [["X-Kept", "3"]],
    ],
    [
      "framing fields named in Connection are kept (the body is relayed as framed)",
      [["Connection", "Transfer-Encoding, Content-Length"], [
        "Transfer-Encoding",
        "chunked",
      ]],
      [["Transfer-Encoding", "chunked"]],
    ],
  ];
  for (const [name, input, expected] of rows) {
    await t.step(name, () => {
      assert.deepEqual(stripHopByHop(input), expected);
    });
  }
});

Deno.test("wantsKeepAlive() follows the version and Connection", async (t) => {
  const rows: Array<[string, HeaderList, boolean]> = [
    ["HTTP/1.1", [], true],
    ["HTTP/1.1", [["Connection", "close"]], false],
    ["HTTP/1.1", [["Connection", "Keep-Alive, Close"]], false],
    ["HTTP/1.0", [], false],
    ["HTTP/1.0", [["Connection", "keep-alive"]], true],
  ];
  for (const [version, headers, expected] of rows) {
    await t.step(`${version} ${JSON.stringify(headers)} → ${expected}`, () => {
      assert.equal(wantsKeepAlive(version, headers), expected);
    });
  }
});

Deno.test("isWebSocketUpgrade() needs GET, Upgrade: websocket and Connection: upgrade", async (t) => {
  const rows: Array<[string, RequestHead, boolean]> = [
    [
      "browser",
      request(
        [["Connection", "Upgrade"], ["Upgrade", "websocket"]],
        "HTTP/1.1",
        "GET",
      ),
      true,
    ],
    [
      "Firefox",
      request(
        [["Connection", "keep-alive, Upgrade"], ["Upgrade", "WebSocket"]],
        "HTTP/1.1",
        "GET",
      ),
      true,
    ],
    [
      "no Connection token",
      request([["Upgrade", "websocket"]], "HTTP/1.1", "GET"),
      false,
    ],
    [
      "h2c",
      request(
        [["Connection", "Upgrade"], ["Upgrade", "h2c"]],
        "HTTP/1.1",
        "GET",
      ),
      false,
    ],
    [
      "POST",
      request(
        [["Connection", "Upgrade"], ["Upgrade", "websocket"]],
        "HTTP/1.1",
        "POST",
      ),
      false,
    ],
  ];
  for (const [name, head, expected] of rows) {
    await t.step(`${name} → ${expected}`, () => {
      assert.equal(isWebSocketUpgrade(head), expected);
    });
  }
});

const untrusted: ClientInfo = {
  address: "192.0.2.7",
  proto: "http",
  port: 8000,
  trusted: false,
};
const trusted: ClientInfo = {
  address: "127.0.0.1",
  proto: "https",
  port: 443,
  trusted: true,
};
const incoming: HeaderList = [
  ["Host", "hub.test:8000"],
  ["X-Forwarded-For", "6.6.6.6"],
  ["X-Forwarded-Proto", "https"],
  ["X-Forwarded-Port", "1"],
  ["X-Forwarded-Host", "evil.test"],
  ["Forwarded", "for=6.6.6.6"],
];

Deno.test("forwardedHeaders() sets X-Forwarded-* from the connection", async (t) => {
  const rows: Array<[string, HeaderList, ClientInfo, boolean, HeaderList]> = [
    ["plain http", [["Host", "hub.test"]], untrusted, false, [
      ["Host", "hub.test"],
      ["X-Forwarded-For", "192.0.2.7"],
      ["X-Forwarded-Port", "8000"],
      ["X-Forwarded-Proto", "http"],
      ["X-Forwarded-Host", "hub.test"],
    ]],
    ["untrusted peer: incoming values dropped", incoming, untrusted, false, [
      ["Host", "hub.test:8000"],
      ["X-Forwarded-For", "192.0.2.7"],
      ["X-Forwarded-Port", "8000"],
      ["X-Forwarded-Proto", "http"],
      ["X-Forwarded-Host", "hub.test:8000"],
    ]],
    ["trusted peer: ours appended, its Host kept", incoming, trusted, false, [
      ["Host", "hub.test:8000"],
      ["X-Forwarded-Host", "evil.test"],
      ["Forwarded", "for=6.6.6.6"],
      ["X-Forwarded-For", "6.6.6.6,127.0.0.1"],
      ["X-Forwarded-Port", "1,443"],
      ["X-Forwarded-Proto", "https,https"],
    ]],
    [
      "websocket: ws scheme and no X-Forwarded-Host",
      [["Host", "hub.test"]],
      untrusted,
      true,
      [
        ["Host", "hub.test"],
        ["X-Forwarded-For", "192.0.2.7"],
        ["X-Forwarded-Port", "8000"],
        ["X-Forwarded-Proto", "ws"],
      ],
    ],
    [
      "websocket over https: wss",
      [["Host", "hub.test"]],
      { ...trusted, trusted: false },
      true,
      [
        ["Host", "hub.test"],
        ["X-Forwarded-For", "127.0.0.1"],
        ["X-Forwarded-Port", "443"],
        ["X-Forwarded-Proto", "wss"],
      ],
    ],
    ["no Host: no X-Forwarded-Host", [], untrusted, false, [
      ["X-Forwarded-For", "192.0.2.7"],
      ["X-Forwarded-Port", "8000"],
      ["X-Forwarded-Proto", "http"],
    ]],
  ];
  for (const [name, headers, client, websocket, expected] of rows) {
    await t.step(name, () => {
      assert.deepEqual(
        forwardedHeaders(headers, { client, websocket, proof: null }),
        expected,
      );
    });
  }
});

Deno.test("forwardedHeaders() joins repeated incoming X-Forwarded-For from a trusted peer", () => {
  const out = forwardedHeaders(
    [["X-Forwarded-For", "1.1.1.1"], ["x-forwarded-for", "2.2.2.2"]],
    { client: trusted, websocket: false, proof: null },
  );
  assert.deepEqual(out.filter(([n]) => n.toLowerCase() === "x-forwarded-for"), [
    ["X-Forwarded-For", "1.1.1.1, 2.2.2.2,127.0.0.1"],
  ]);
});

Deno.test("forwardedHeaders() drops a client's X-Onehub-Proxy, trusted peer or not, and adds the proxy's own only when given", () => {
  const forged: Array<[string, string]> = [["x-onehub-proxy", "guess"], [
    "X-Forwarded-For",
    "6.6.6.6",
  ]];
  for (const client of [trusted, untrusted]) {
    for (const proof of [null, "s3cret"]) {
      const out = forwardedHeaders(forged, {
        client,
        websocket: false,
        proof,
      });
      assert.deepEqual(
        out.filter(([n]) => n.toLowerCase() === "x-onehub-proxy"),
        proof === null ? [] : [["X-Onehub-Proxy", "s3cret"]],
      );
    }
  }
});

Deno.test("serializeHead() writes the start line, the fields and a blank line as latin1", () => {
  const bytes = serializeHead("HTTP/1.1 200 OK", [["X-A", "caf\u00e9"], [
    "Set-Cookie",
    "a=1",
  ], ["Set-Cookie", "b=2"]]);
  assert.deepEqual(
    [...bytes],
    [..."HTTP/1.1 200 OK\r\nX-A: caf\u00e9\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n"]
      .map((c) => c.charCodeAt(0)),
  );
});
