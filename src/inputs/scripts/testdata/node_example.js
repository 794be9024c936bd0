#!/usr/bin/env node
// Like CoScale's examples/node-example.js: config via JSON.stringify, Math.random()-style floats, one
// of which prints in exponent form.
const config = {
  maxruntime: 5000,
  period: 60,
  metrics: [
    {
      id: 1,
      datatype: "DOUBLE",
      name: "Random",
      description: "",
      groups: "Random",
      unit: "",
      calctype: "Instant",
    },
    {
      id: 2,
      datatype: "DOUBLE",
      name: "Tiny",
      description: "",
      groups: "Random",
      unit: "",
      calctype: "Instant",
    },
  ],
};
if (process.argv.includes("-c")) {
  console.log(JSON.stringify(config));
} else {
  console.log("M1 " + 0.7134250217139325);
  console.log("M2 " + 1.2e-7);
}
