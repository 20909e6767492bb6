// Runs the flow (compiled to out/flow.js) against a server: node run.mjs
// BASE_URL READING.pdf PASSWORD. Prints the flow's log as JSON.
import fs from "node:fs";
import { professorAndStudent } from "./out/flow.js";

const [base, pdf, password] = process.argv.slice(2);
const reading = new Blob([fs.readFileSync(pdf)], { type: "application/pdf" });
console.log(JSON.stringify(await professorAndStudent(base, reading, password)));
