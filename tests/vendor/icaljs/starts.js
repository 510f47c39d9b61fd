// Reads an iCalendar document on stdin and prints, as JSON, each VEVENT's UID and start
// as ical.js understands it: {"uid": ..., "start": "YYYY-MM-DDTHH:MM:SSZ"} for a timed
// event (the UTC instant), {"uid": ..., "date": "YYYY-MM-DD"} for an all-day one.
//
// ical.js reads a TZID from the VTIMEZONE in the same document, as a subscribed calendar
// does. A start whose TZID names no VTIMEZONE there, or a floating start (no TZID, no Z),
// has no single instant: the script says so and exits 1 rather than guess.
import ICAL from './ical.js';

function pad(value, width = 2) {
  return String(value).padStart(width, '0');
}

function utcText(time) {
  const utc = time.convertToZone(ICAL.Timezone.utcTimezone);
  return `${pad(utc.year, 4)}-${pad(utc.month)}-${pad(utc.day)}` +
    `T${pad(utc.hour)}:${pad(utc.minute)}:${pad(utc.second)}Z`;
}

function startOf(vevent) {
  const uid = vevent.getFirstPropertyValue('uid');
  const property = vevent.getFirstProperty('dtstart');
  if (!property) {
    throw new Error(`${uid}: no DTSTART`);
  }
  const start = property.getFirstValue();
  if (start.isDate) {
    return { uid, date: `${pad(start.year, 4)}-${pad(start.month)}-${pad(start.day)}` };
  }
  const tzid = property.getParameter('tzid');
  const zone = start.zone;
  if (zone === ICAL.Timezone.utcTimezone) {
    return { uid, start: utcText(start) };
  }
  if (!tzid || !zone || zone === ICAL.Timezone.localTimezone || zone.tzid !== tzid) {
    throw new Error(`${uid}: DTSTART ${property.toICALString()} is not tied to a ` +
      'VTIMEZONE in this document');
  }
  return { uid, start: utcText(start) };
}

const chunks = [];
for await (const chunk of process.stdin) {
  chunks.push(chunk);
}
try {
  const calendar = new ICAL.Component(ICAL.parse(Buffer.concat(chunks).toString('utf8')));
  const starts = calendar.getAllSubcomponents('vevent').map(startOf);
  process.stdout.write(`${JSON.stringify(starts)}\n`);
} catch (error) {
  process.stderr.write(`ical.js: ${error.message}\n`);
  process.exit(1);
}
