using System.Xml;

namespace HttpSysLite.Trace;

/// <summary>XML in the shape of tracerpt's dumpfile.xml: Events/Event with System, EventData and RenderingInfo.</summary>
internal sealed class XmlTraceWriter : ITraceWriter
{
    private readonly XmlWriter _xml;

    public XmlTraceWriter(TextWriter output)
    {
        _xml = XmlWriter.Create(output, new XmlWriterSettings { Indent = true });
        _xml.WriteStartDocument();
        _xml.WriteStartElement("Events");
    }

    public void Write(TraceRow row)
    {
        _xml.WriteStartElement("Event");
        _xml.WriteStartElement("System");
        _xml.WriteStartElement("Provider");
        _xml.WriteAttributeString("Name", "HttpSysLite");
        _xml.WriteEndElement();
        _xml.WriteElementString("EventID", row.EventId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _xml.WriteElementString("Level", row.Level);
        _xml.WriteElementString("Keywords", $"0x{row.Keywords:X}");
        _xml.WriteStartElement("TimeCreated");
        _xml.WriteAttributeString("SystemTime", row.Time.ToUniversalTime().ToString("O"));
        _xml.WriteEndElement();
        _xml.WriteStartElement("Correlation");
        _xml.WriteAttributeString("ActivityID", row.ActivityId.ToString("B"));
        _xml.WriteEndElement();
        _xml.WriteStartElement("Execution");
        _xml.WriteAttributeString("ProcessID", row.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _xml.WriteAttributeString("ThreadID", row.ThreadId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _xml.WriteEndElement();
        _xml.WriteEndElement(); // System
        _xml.WriteStartElement("EventData");
        foreach (var (name, value) in row.Fields)
        {
            _xml.WriteStartElement("Data");
            _xml.WriteAttributeString("Name", name);
            _xml.WriteString(value);
            _xml.WriteEndElement();
        }
        _xml.WriteEndElement(); // EventData
        _xml.WriteStartElement("RenderingInfo");
        _xml.WriteElementString("Task", row.EventName);
        _xml.WriteEndElement();
        _xml.WriteEndElement(); // Event
        _xml.Flush();
    }

    public void Dispose()
    {
        _xml.WriteEndElement();
        _xml.WriteEndDocument();
        _xml.Dispose();
    }
}
